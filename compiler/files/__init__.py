"""One way to read a file (regular, bounded, never blocking) and one to replace one (atomically)."""
