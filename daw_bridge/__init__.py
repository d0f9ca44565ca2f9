"""OSC bridge between DAW scripts and the SFX Sidecar index (see schemas/ for its address space)."""
