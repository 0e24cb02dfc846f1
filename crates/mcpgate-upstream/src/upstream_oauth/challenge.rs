//! The `WWW-Authenticate: Bearer ...` challenge of a protected MCP server (RFC 6750 §3,
//! RFC 9728 §5.1): where its Protected Resource Metadata is, and which scope it wants.

/// What a `Bearer` challenge says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// `resource_metadata`: the URL of the server's Protected Resource Metadata.
    pub resource_metadata: Option<String>,
    /// `scope`: what the server asks for (MCP: authoritative for the first request).
    pub scope: Option<String>,
}

impl BearerChallenge {
    /// Reads the `Bearer` challenge out of a `WWW-Authenticate` value (which may hold
    /// other schemes' challenges too); `None` when there is no `Bearer` challenge.
    pub fn parse(header: &str) -> Option<BearerChallenge> {
        let start = find_scheme(header, "bearer")?;
        let mut rest = &header[start + "bearer".len()..];
        let mut challenge = BearerChallenge::default();
        loop {
            rest = rest.trim_start_matches([' ', '\t', ',']);
            let Some(equals) = rest.find('=') else { break };
            let name = rest[..equals].trim();
            if name.contains(' ') {
                // The next scheme's name: this challenge ended.
                break;
            }
            rest = rest[equals + 1..].trim_start();
            let (value, after) = if let Some(quoted) = rest.strip_prefix('"') {
                quoted_string(quoted)?
            } else {
                let end = rest.find([',', ' ']).unwrap_or(rest.len());
                (rest[..end].to_owned(), &rest[end..])
            };
            rest = after;
            match name.to_ascii_lowercase().as_str() {
                "resource_metadata" => challenge.resource_metadata = Some(value),
                "scope" => challenge.scope = Some(value),
                _ => {}
            }
        }
        Some(challenge)
    }
}

/// Where `scheme` starts as a word of its own (case-insensitive).
fn find_scheme(header: &str, scheme: &str) -> Option<usize> {
    let lower = header.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find(scheme) {
        let at = from + found;
        let before_ok = at == 0 || matches!(lower.as_bytes()[at - 1], b' ' | b',' | b'\t');
        let after = lower.as_bytes().get(at + scheme.len());
        let after_ok = after.is_none_or(|b| matches!(b, b' ' | b'\t'));
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + scheme.len();
    }
    None
}

/// The value of a quoted string (after its opening quote) and what follows it.
fn quoted_string(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?.1),
            '"' => return Some((value, &text[index + 1..])),
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_names_its_metadata_and_scope() {
        let parsed = BearerChallenge::parse(
            r#"Bearer error="invalid_token", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="files:read files:write""#,
        )
        .expect("a Bearer challenge");
        assert_eq!(
            parsed.resource_metadata.as_deref(),
            Some("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(parsed.scope.as_deref(), Some("files:read files:write"));
    }

    #[test]
    fn a_bearer_challenge_is_found_among_others_and_without_parameters() {
        let parsed = BearerChallenge::parse(
            r#"Basic realm="x", bearer resource_metadata=https://a.example/prm, Digest realm="y""#,
        )
        .expect("a Bearer challenge");
        assert_eq!(
            parsed.resource_metadata.as_deref(),
            Some("https://a.example/prm")
        );
        assert_eq!(
            BearerChallenge::parse("Bearer"),
            Some(BearerChallenge::default())
        );
        assert_eq!(BearerChallenge::parse(r#"Basic realm="bearer""#), None);
        assert_eq!(
            BearerChallenge::parse(r#"Bearer scope="unterminated"#),
            None
        );
    }
}
