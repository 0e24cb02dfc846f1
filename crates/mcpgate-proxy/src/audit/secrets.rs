//! What looks like a secret, by its name or by its shape.
//!
//! Names are split into word parts (snake, kebab, dotted, camel and Pascal case, and
//! letter/digit boundaries), and words are compared whole: `apiKey`, `DB_PASSWORD` and
//! `x-auth-token` are secret, `author`, `pinned` and `primary_key` are not. A few long,
//! unambiguous fragments also count inside a word (`dbpassword`, `githubtoken`).
//! Values are secret by shape whatever their name: a `Bearer` credential, a JWT, a PEM
//! private key, a URL's password, a well-known token prefix, a `NAME=value` pair whose
//! name is secret. Only the secret part of a string is replaced, so the rest stays
//! readable evidence.

use std::ops::Range;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Word parts any one of which makes a name secret.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "passcode",
    "secret",
    "secrets",
    "token",
    "tokens",
    "credential",
    "credentials",
    "creds",
    "auth",
    "oauth",
    "authorization",
    "cookie",
    "cookies",
    "session",
    "bearer",
    "jwt",
    "otp",
    "totp",
    "pin",
    "cvv",
    "apikey",
    "privatekey",
    "accesskey",
    "secretkey",
];
/// Words that make a name secret when the next word is `key` (`api_key`, `privateKey`);
/// `key` alone names a map entry more often than a credential.
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "private",
    "secret",
    "signing",
    "encryption",
    "enc",
    "master",
    "client",
    "ssh",
    "hmac",
    "license",
];
/// Fragments that make a name secret even inside a longer word.
const SECRET_FRAGMENTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "credential",
    "authorization",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "accesskey",
];
/// Prefixes of well-known credentials (GitHub, GitLab, Slack, Stripe, OpenAI,
/// Anthropic, AWS access key ids, Google API keys), each with the least number of
/// token characters that must follow it.
const TOKEN_PREFIXES: &[(&str, usize)] = &[
    ("ghp_", 20),
    ("gho_", 20),
    ("ghu_", 20),
    ("ghs_", 20),
    ("ghr_", 20),
    ("github_pat_", 20),
    ("glpat-", 16),
    ("xoxb-", 12),
    ("xoxp-", 12),
    ("xoxa-", 12),
    ("xoxs-", 12),
    ("sk_live_", 16),
    ("rk_live_", 16),
    ("sk-proj-", 20),
    ("sk-ant-", 20),
    ("AKIA", 16),
    ("AIza", 30),
];
/// A credential after `Bearer` is at least this long.
const BEARER_MIN_CHARS: usize = 8;

/// Whether a field named `name` holds a secret.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let words = words(name);
    if words
        .iter()
        .any(|word| SECRET_WORDS.contains(&word.as_str()))
    {
        return true;
    }
    if words
        .windows(2)
        .any(|pair| pair[1] == "key" && KEY_QUALIFIERS.contains(&pair[0].as_str()))
    {
        return true;
    }
    words.iter().any(|word| {
        word.len() > 4
            && SECRET_FRAGMENTS
                .iter()
                .any(|fragment| word.contains(fragment))
    })
}

/// `text` with every secret-shaped part replaced by [`REDACTED`]; `None` when it holds
/// nothing secret-shaped.
pub(crate) fn redact_secret_values(text: &str) -> Option<String> {
    if text.contains("-----BEGIN") && text.contains("PRIVATE KEY") {
        return Some(REDACTED.to_owned());
    }
    let mut spans = Vec::new();
    bearer_spans(text, &mut spans);
    jwt_spans(text, &mut spans);
    url_password_spans(text, &mut spans);
    prefixed_token_spans(text, &mut spans);
    assignment_spans(text, &mut spans);
    if spans.is_empty() {
        return None;
    }
    spans.sort_by_key(|span| span.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in merged {
        out.push_str(&text[at..span.start]);
        out.push_str(REDACTED);
        at = span.end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// The lower-case word parts of a name.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (index, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            flush(&mut current, &mut words);
            continue;
        }
        if let Some(&previous) = index.checked_sub(1).and_then(|i| chars.get(i)) {
            let next_is_lower = chars.get(index + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (previous.is_lowercase() && c.is_uppercase())
                // The last capital of a run starts the next word: `APIKey` is API, Key.
                || (previous.is_uppercase() && c.is_uppercase() && next_is_lower)
                || (previous.is_alphabetic() && c.is_numeric())
                || (previous.is_numeric() && c.is_alphabetic());
            if boundary {
                flush(&mut current, &mut words);
            }
        }
        current.extend(c.to_lowercase());
    }
    flush(&mut current, &mut words);
    words
}

fn flush(current: &mut String, words: &mut Vec<String>) {
    if !current.is_empty() {
        words.push(std::mem::take(current));
    }
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// The end of the run of characters from `start` that satisfy `keep`.
fn run_end(text: &str, start: usize, keep: impl Fn(char) -> bool) -> usize {
    text[start..]
        .char_indices()
        .find(|(_, c)| !keep(*c))
        .map_or(text.len(), |(offset, _)| start + offset)
}

/// Whether `text[at..]` begins a word (nothing alphanumeric just before it).
fn starts_word(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_ascii_alphanumeric())
}

/// Byte offsets of `needle` in `text`, compared ASCII case-insensitively.
fn find_all_ignore_case<'a>(text: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    let (bytes, needle) = (text.as_bytes(), needle.as_bytes());
    (0..bytes.len().saturating_sub(needle.len() - 1))
        .filter(move |&at| bytes[at..at + needle.len()].eq_ignore_ascii_case(needle))
}

/// `Bearer <credential>`: the credential.
fn bearer_spans(text: &str, spans: &mut Vec<Range<usize>>) {
    for at in find_all_ignore_case(text, "bearer") {
        if !starts_word(text, at) {
            continue;
        }
        let after = at + "bearer".len();
        let start = run_end(text, after, |c| c == ' ' || c == '\t');
        if start == after {
            continue;
        }
        let end = run_end(text, start, is_token_char);
        if text[start..end].chars().count() >= BEARER_MIN_CHARS {
            spans.push(start..end);
        }
    }
}

/// Three base64url segments, the first starting `eyJ` (a JSON object's `{"`).
fn jwt_spans(text: &str, spans: &mut Vec<Range<usize>>) {
    for (at, _) in text.match_indices("eyJ") {
        if !starts_word(text, at) {
            continue;
        }
        let end = run_end(text, at, |c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
        });
        let segments: Vec<&str> = text[at..end].split('.').collect();
        if segments.len() == 3
            && segments[0].len() >= 10
            && !segments[1].is_empty()
            && end - at >= 20
        {
            spans.push(at..end);
        }
    }
}

/// `scheme://user:password@host`: the password.
fn url_password_spans(text: &str, spans: &mut Vec<Range<usize>>) {
    for (at, _) in text.match_indices("://") {
        let authority_start = at + 3;
        let authority_end = run_end(text, authority_start, |c| {
            !matches!(c, '/' | '?' | '#') && !c.is_whitespace()
        });
        let authority = &text[authority_start..authority_end];
        let Some(userinfo_len) = authority.rfind('@') else {
            continue;
        };
        let Some(colon) = authority[..userinfo_len].find(':') else {
            continue;
        };
        if colon + 1 < userinfo_len {
            spans.push(authority_start + colon + 1..authority_start + userinfo_len);
        }
    }
}

/// `ghp_…`, `AKIA…` and the like.
fn prefixed_token_spans(text: &str, spans: &mut Vec<Range<usize>>) {
    for (prefix, min_tail) in TOKEN_PREFIXES {
        for (at, _) in text.match_indices(prefix) {
            if !starts_word(text, at) {
                continue;
            }
            let end = run_end(text, at + prefix.len(), |c| {
                c.is_ascii_alphanumeric() || matches!(c, '-' | '_')
            });
            if end - at - prefix.len() >= *min_tail {
                spans.push(at..end);
            }
        }
    }
}

/// `NAME=value` (an environment list, a connection string, a query string) whose name
/// is secret: the value.
fn assignment_spans(text: &str, spans: &mut Vec<Range<usize>>) {
    for (equals, _) in text.match_indices('=') {
        let name_start = text[..equals]
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .map_or(0, |(index, c)| index + c.len_utf8());
        let name = &text[name_start..equals];
        if name.is_empty() || !is_secret_name(name) {
            continue;
        }
        let start = equals + 1;
        let end = run_end(text, start, |c| {
            !matches!(c, ';' | '&' | ',' | '"' | '\'') && !c.is_whitespace()
        });
        if end > start {
            spans.push(start..end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_secret_by_their_word_parts() {
        for name in [
            "password",
            "DB_PASSWORD",
            "apiKey",
            "api_key",
            "x-api-key",
            "APIKey",
            "private_key",
            "privateKey",
            "access_key_id",
            "AWS_SECRET_ACCESS_KEY",
            "credential",
            "credentials",
            "auth",
            "authToken",
            "x-auth",
            "Authorization",
            "cookie",
            "Set-Cookie",
            "session",
            "session_id",
            "sessionToken",
            "bearer",
            "jwt",
            "otp",
            "pin",
            "card.pin",
            "pin2",
            "client_secret",
            "dbpassword",
            "githubtoken",
            "apikey",
            "user_pass",
        ] {
            assert!(is_secret_name(name), "{name} should be secret");
        }
    }

    #[test]
    fn names_that_merely_contain_a_short_secret_word_are_not_secret() {
        for name in [
            "author",
            "authors",
            "pinned",
            "spinner",
            "pinecone",
            "key",
            "primary_key",
            "sort_key",
            "keyboard",
            "monkey",
            "image",
            "namespace",
            "otpauthor",
            "passenger",
            "compass",
            "description",
            "sessionless",
        ] {
            assert!(!is_secret_name(name), "{name} should not be secret");
        }
    }

    #[test]
    fn word_parts_follow_every_case_convention() {
        assert_eq!(words("APIKey"), ["api", "key"]);
        assert_eq!(words("x-api-key"), ["x", "api", "key"]);
        assert_eq!(words("dbPassword2"), ["db", "password", "2"]);
        assert_eq!(words("HTTP_AUTH.header"), ["http", "auth", "header"]);
    }

    #[test]
    fn secret_shaped_values_are_redacted_in_place() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl";
        assert_eq!(
            redact_secret_values(&format!("Bearer {jwt}")).unwrap(),
            "Bearer [REDACTED]"
        );
        assert_eq!(
            redact_secret_values("curl -H 'Authorization: bearer abcdefgh12345' x").unwrap(),
            "curl -H 'Authorization: bearer [REDACTED]' x"
        );
        assert_eq!(
            redact_secret_values(&format!("token is {jwt}, keep it")).unwrap(),
            "token is [REDACTED], keep it"
        );
        assert_eq!(
            redact_secret_values("postgres://app:hunter2@db:5432/x").unwrap(),
            "postgres://app:[REDACTED]@db:5432/x"
        );
        assert_eq!(
            redact_secret_values("DB_PASSWORD=hunter2").unwrap(),
            "DB_PASSWORD=[REDACTED]"
        );
        assert_eq!(
            redact_secret_values("Server=db;User=app;Password=hunter2;").unwrap(),
            "Server=db;User=app;Password=[REDACTED];"
        );
        assert_eq!(
            redact_secret_values("push with ghp_abcdefghijklmnop1234 now").unwrap(),
            "push with [REDACTED] now"
        );
        assert_eq!(
            redact_secret_values("AKIAABCDEFGHIJKLMNOP").unwrap(),
            REDACTED
        );
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----";
        assert_eq!(redact_secret_values(pem).unwrap(), REDACTED);
    }

    #[test]
    fn overlapping_secrets_are_redacted_once() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl";
        assert_eq!(
            redact_secret_values(&format!("session={jwt}")).unwrap(),
            "session=[REDACTED]"
        );
        assert_eq!(
            redact_secret_values("https://u:ghp_abcdefghijklmnopqrstuvwx@github.com").unwrap(),
            "https://u:[REDACTED]@github.com"
        );
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for text in [
            "nginx:1.27",
            "the bearer of bad news",
            "https://example.com/path?q=1",
            "https://user@example.com/",
            "-----BEGIN CERTIFICATE-----",
            "ASIA_PACIFIC_REGION_WEST",
            "image=nginx",
            "eyJ",
            "a.b.c",
            "",
        ] {
            assert_eq!(redact_secret_values(text), None, "{text}");
        }
    }
}
