//! `rig-stress`: drives many rig clients against the embedded server through
//! simulated network faults. The harness itself lands with the resilience work;
//! for now the binary only reports that it has no scenarios yet.

fn main() {
    eprintln!("rig-stress: no scenarios are built yet");
    std::process::exit(2);
}
