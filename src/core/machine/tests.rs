// Ported by the core test helper; placeholder.
