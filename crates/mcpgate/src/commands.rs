//! One module per subcommand.

pub mod classify;
pub mod serve;
pub mod up;
