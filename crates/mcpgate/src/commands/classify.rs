//! `mcpgate classify FILE.json`: the catalogue's report, printed.

use std::path::Path;
use std::process::ExitCode;

pub fn run(file: &Path, json: bool) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("mcpgate classify: cannot read {}: {error}", file.display());
            return ExitCode::FAILURE;
        }
    };
    match mcpgate_catalog::report::report(&text, json) {
        Ok(report) => super::print_stdout(&report),
        Err(error) => {
            eprintln!("mcpgate classify: {}: {error}", file.display());
            ExitCode::FAILURE
        }
    }
}
