//! The `rig` command-line tool.

fn main() {
    eprintln!("rig: no commands yet");
    std::process::exit(2);
}
