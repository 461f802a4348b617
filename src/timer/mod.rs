//! A hierarchical timer wheel driven by the injected clock.
