"""Stage 3, package: rendered cards become notes of our note types in an .apkg, compared with the previous one."""
