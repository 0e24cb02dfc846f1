//! The one error type of the catalogue crate.

/// Why a catalogue or a tool definition could not be read.
///
/// Every message names what was wrong and, where it helps, where: the tool's
/// position in the `tools` array or its name.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The text is not JSON at all.
    #[error("catalogue is not valid JSON: {0}")]
    InvalidJson(#[source] serde_json::Error),
    /// The JSON has no `tools` array where a catalogue, a `tools/list` result
    /// or a JSON-RPC response wrapping one would have it.
    #[error(
        "catalogue has no `tools` array: expected {{\"tools\": [...]}}, \
         a tools/list result or a JSON-RPC response {{\"result\": {{\"tools\": [...]}}}}"
    )]
    NoToolsArray,
    /// The JSON is a JSON-RPC error response, not a tool list.
    #[error("catalogue is a JSON-RPC error response: {0}")]
    RpcError(String),
    /// An element of the `tools` array is not a JSON object.
    #[error("tool #{index} is not a JSON object")]
    ToolNotAnObject {
        /// Position in the `tools` array, counting from 1.
        index: usize,
    },
    /// A tool has no `name`, or an empty or non-string one.
    #[error("tool #{index} has no name (a non-empty string `name` is required)")]
    MissingName {
        /// Position in the `tools` array, counting from 1.
        index: usize,
    },
    /// A tool definition has a field of the wrong shape.
    #[error("tool `{name}` is not a valid MCP tool definition: {reason}")]
    InvalidTool {
        /// The tool's name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A tool's hand label (`label: {category, risk, why}`) cannot be read.
    #[error("tool `{name}` has an invalid label: {reason}")]
    InvalidLabel {
        /// The tool's name.
        name: String,
        /// What is wrong with the label.
        reason: String,
    },
}
