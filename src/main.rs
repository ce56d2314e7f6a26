//! The `modelgate` binary: parse arguments, run the command, exit 0 / 1 / 2.

use std::process::ExitCode;

use clap::Parser;

mod cli;

/// mimalloc: the policy engine and the server allocate and free many small values per
/// decision, where glibc's allocator spent a third of the server's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    modelgate::policy::engine::quiet_error_backtraces();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Usage errors are errors of the input: exit 2, like every other broken input.
            let _ = error.print();
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(2),
            };
        }
    };
    // A bug must not look like a pass: a panic is an error (exit 2), after the default
    // hook has printed where it happened.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cli::run(cli))) {
        Ok(status) => status.into(),
        Err(_) => {
            eprintln!("error: modelgate stopped on an internal error; nothing was decided");
            eprintln!("hint: this is a bug: report it with the command and, if you can, the input");
            ExitCode::from(2)
        }
    }
}
