//! `vessel-conformance`: see `vessel-conformance --help`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(vessel_conformance::main_with(&args));
}
