from helmc.cli import helmc_entry

helmc_entry()
