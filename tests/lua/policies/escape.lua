return require "team.link"
