"""mirrorkeeper: keeps a software distribution's mirror network honest."""
