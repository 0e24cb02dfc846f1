//! A rendered environment loaded by the real configuration: each variable is matched
//! to its setting through the `env = "..."` that config.rs declares (so a misspelt
//! name is found, not ignored) and given as that setting's flag, with every
//! declaration's environment lookup switched off so the test process's own
//! variables cannot leak in.

use std::ffi::OsStr;

use clap::{Args, Command, FromArgMatches};

use crate::config::{Config, SettingsArgs};

fn settings_command() -> Command {
    SettingsArgs::augment_args(Command::new("deployment-check"))
}

/// Whether `variable` is a setting's environment variable.
pub(super) fn is_setting(variable: &str) -> bool {
    settings_command()
        .get_arguments()
        .any(|arg| arg.get_env() == Some(OsStr::new(variable)))
}

/// The environment's settings loaded as `mcpgate` loads its own. Variables that are no
/// setting are an error unless listed in `helpers` (e.g. REDIS_PASSWORD, only there
/// for `$(VAR)` expansion).
pub(super) fn load(environment: &[(String, String)], helpers: &[&str]) -> Result<Config, String> {
    let command = settings_command();
    let mut flags = vec!["deployment-check".to_owned()];
    for (variable, value) in environment {
        let flag = command
            .get_arguments()
            .find(|arg| arg.get_env() == Some(OsStr::new(variable)))
            .and_then(|arg| arg.get_long());
        match flag {
            Some(long) => flags.push(format!("--{long}={value}")),
            None if helpers.contains(&variable.as_str()) => {}
            None => return Err(format!("{variable} is not an mcpgate setting")),
        }
    }
    let matches = command
        .mut_args(|arg| arg.env(None::<&'static str>))
        .try_get_matches_from(flags)
        .map_err(|error| error.to_string())?;
    let args = SettingsArgs::from_arg_matches(&matches).map_err(|error| error.to_string())?;
    args.load().map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_variable_that_is_no_setting_is_refused_and_the_process_environment_is_ignored() {
        assert!(is_setting("MCPGATE_REDIS_URL"));
        assert!(is_setting("OTEL_EXPORTER_OTLP_ENDPOINT"));
        let error = load(&[("MCPGATE_REDIS_ULR".into(), "redis://h:1".into())], &[]).unwrap_err();
        assert!(error.contains("MCPGATE_REDIS_ULR"), "{error}");
        let config = load(&[("MCPGATE_REDIS_URL".into(), "redis://h:1".into())], &[]).unwrap();
        assert_eq!(config.redis_url.as_deref(), Some("redis://h:1"));
        // Nothing but what was given: no database URL, whatever this process has set.
        assert_eq!(config.database_url, None);
    }
}
