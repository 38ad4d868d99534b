octopus.set_output("Answer", "forty two")
octopus.set_output("Count", 3)
