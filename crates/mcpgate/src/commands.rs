//! One module per subcommand.

pub mod classify;
pub mod demo;
pub mod keygen;
pub mod serve;
pub mod up;

/// Writes `text` to stdout; a closed pipe (`mcpgate classify f | head`) is not
/// an error worth a panic.
pub fn print_stdout(text: &str) -> std::process::ExitCode {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("mcpgate: cannot write to stdout: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
