-- A NUL byte ends the text C would read: "100%\0junk" is not "100%".
return {
  max_delete = "100%\0junk",
}
