-- A NUL byte ends the text C would read: "10m\0junk" is not "10m".
return {
  grace = { orphan = "10m\0junk" },
}
