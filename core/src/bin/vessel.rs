//! The `vessel` command; everything it does lives in [`vessel::cli`].

fn main() -> std::process::ExitCode {
    vessel::cli::main()
}
