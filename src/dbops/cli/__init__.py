"""The thin command-line layer: parse, call the capability, render."""
