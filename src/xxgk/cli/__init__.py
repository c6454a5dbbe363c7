"""The `xxgk` command line: parse options, call one library function, print, set the exit code."""
