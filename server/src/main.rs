//! `taskmill`: see `server::cli` for the commands.

fn main() -> std::process::ExitCode {
    server::cli::main()
}
