//! The vocabulary a tool's risk classification is written in.
//!
//! It lives here, in the policy crate, because policies select tools by it
//! (`{"risk": "high"}`); the catalogue crate produces values of these types.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a tool does to the world, coarsely.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Observes state without changing it.
    Read,
    /// Creates or changes state that can be changed back.
    Write,
    /// Deletes or irreversibly changes state.
    Destructive,
    /// Runs code, commands, containers or queries chosen by the caller.
    Execute,
    /// Reads, creates or manages secrets, tokens or identities.
    Credential,
    /// Reaches out to other hosts (fetch a URL, send a message or an email).
    Network,
}

/// How much harm a misused call can do. Ordered: `Low < Medium < High < Critical`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Harmless in practice.
    Low,
    /// Bounded harm, easy to undo.
    Medium,
    /// Real harm, hard to undo.
    High,
    /// Harm to the whole system or its secrets.
    Critical,
}

/// A tool's classification, as the policy engine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Classification {
    /// The tool's category.
    pub category: Category,
    /// The tool's risk level.
    pub risk: Risk,
}

impl Category {
    /// Every category, in declaration order.
    pub const ALL: [Category; 6] = [
        Category::Read,
        Category::Write,
        Category::Destructive,
        Category::Execute,
        Category::Credential,
        Category::Network,
    ];

    /// Its place in [`Category::ALL`]: a column of a count table.
    pub fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|c| *c == self)
            .expect("ALL lists every category")
    }

    /// The lowercase name used in documents and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Read => "read",
            Category::Write => "write",
            Category::Destructive => "destructive",
            Category::Execute => "execute",
            Category::Credential => "credential",
            Category::Network => "network",
        }
    }
}

impl Risk {
    /// Every risk level, lowest first.
    pub const ALL: [Risk; 4] = [Risk::Low, Risk::Medium, Risk::High, Risk::Critical];

    /// Its place in [`Risk::ALL`], lowest first: a column of a count table.
    pub fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|r| *r == self)
            .expect("ALL lists every risk")
    }

    /// The lowercase name used in documents and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }
}

/// A name that is not one of the known categories or risk levels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`; expected one of: {expected}")]
pub struct UnknownName {
    kind: &'static str,
    value: String,
    expected: &'static str,
}

impl FromStr for Category {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownName {
                kind: "category",
                value: s.to_owned(),
                expected: "read, write, destructive, execute, credential, network",
            })
    }
}

impl FromStr for Risk {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Risk::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownName {
                kind: "risk level",
                value: s.to_owned(),
                expected: "low, medium, high, critical",
            })
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
