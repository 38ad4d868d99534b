error("discovery must not run this file")
