//! `taskmill`: see `server::cli` for the commands.

/// Pages are built from many small strings; with glibc's allocator, malloc/free were a quarter
/// of a list page's CPU (bench/RESULTS-console.md).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    server::cli::main()
}
