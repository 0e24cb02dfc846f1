//! Splitting names and descriptions into lowercase words.
//!
//! Tool names come in every convention (`k8s_get_pods`, `getPods`,
//! `get-pods`, `HTTPRequest`); descriptions are prose. Both become lowercase
//! words so that the lexicons match whole words only (`noexecute` is not
//! `execute`, `country_code` is not `code`).

/// Splits an identifier into lowercase tokens at `_`, `-`, `.`, `/`, spaces
/// and camelCase boundaries. Digits stay with their letters (`k8s`).
pub(crate) fn identifier_tokens(identifier: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for part in identifier.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<char> = part.chars().collect();
        let mut current = String::new();
        for (index, &c) in chars.iter().enumerate() {
            let previous = index.checked_sub(1).map(|i| chars[i]);
            let next = chars.get(index + 1);
            let lower_to_upper = previous.is_some_and(|p| p.is_lowercase()) && c.is_uppercase();
            // The `R` of `HTTPRequest` starts a word: upper, upper, lower.
            let acronym_end = previous.is_some_and(char::is_uppercase)
                && c.is_uppercase()
                && next.is_some_and(|n| n.is_lowercase());
            if (lower_to_upper || acronym_end) && !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            current.extend(c.to_lowercase());
        }
        if !current.is_empty() {
            tokens.push(current);
        }
    }
    merge_compounds(tokens)
}

/// Joins two-word nouns whose first word would read as a verb: the `pull`
/// of `pull_request` pulls nothing from the network.
fn merge_compounds(tokens: Vec<String>) -> Vec<String> {
    const COMPOUNDS: [(&str, &str); 6] = [
        ("pull", "request"),
        ("pull", "requests"),
        ("merge", "request"),
        ("merge", "requests"),
        ("data", "source"),
        ("data", "sources"),
    ];
    let mut merged: Vec<String> = Vec::with_capacity(tokens.len());
    for token in tokens {
        if let Some(last) = merged.last_mut() {
            if COMPOUNDS.contains(&(last.as_str(), token.as_str())) {
                last.push_str(&token);
                continue;
            }
        }
        merged.push(token);
    }
    merged
}

/// Prose as lowercase words, for whole-word and phrase matching.
#[derive(Debug, Clone)]
pub(crate) struct Words {
    words: Vec<String>,
    /// The words joined by single spaces, with a space at either end.
    padded: String,
}

impl Words {
    /// Splits prose into lowercase words at anything that is not a letter,
    /// a digit or an apostrophe-free hyphen (`read-only` → `read only`).
    pub(crate) fn new(text: &str) -> Self {
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(str::to_lowercase)
            .collect();
        let padded = format!(" {} ", words.join(" "));
        Words { words, padded }
    }

    /// The words in order.
    pub(crate) fn as_slice(&self) -> &[String] {
        &self.words
    }

    /// Whether the whole-word phrase (lowercase, single spaces) occurs.
    pub(crate) fn has_phrase(&self, phrase: &str) -> bool {
        self.padded.contains(&format!(" {phrase} "))
    }

    /// Whether the phrase occurs at least once not denied: neither `never`, `not` nor `no`
    /// among the three words after it, nor `never`, `no`, `not` or `without` among the two
    /// before it ("secret values never sent", "the AI never sees plaintext").
    pub(crate) fn has_affirmed_phrase(&self, phrase: &str) -> bool {
        let wanted: Vec<&str> = phrase.split(' ').collect();
        let n = wanted.len();
        if n == 0 || self.words.len() < n {
            return false;
        }
        let denial = |w: &String| ["never", "not", "no", "without"].contains(&w.as_str());
        (0..=self.words.len() - n).any(|start| {
            let matches = self.words[start..start + n]
                .iter()
                .zip(&wanted)
                .all(|(word, want)| word == want);
            if !matches {
                return false;
            }
            let after = &self.words[start + n..self.words.len().min(start + n + 3)];
            let before = &self.words[start.saturating_sub(2)..start];
            !after.iter().any(|w| w != "without" && denial(w)) && !before.iter().any(denial)
        })
    }

    /// The first of `phrases` that occurs, in the order given.
    pub(crate) fn first_phrase<'p>(&self, phrases: &[&'p str]) -> Option<&'p str> {
        phrases
            .iter()
            .copied()
            .find(|phrase| self.has_phrase(phrase))
    }
}

/// The first sentence of a description: up to the first line break or
/// full stop followed by a space.
pub(crate) fn first_sentence(description: &str) -> &str {
    let line = description.trim_start().split('\n').next().unwrap_or("");
    // "Notion | Update page properties": a product name before a bar is no verb.
    let line = match line.split_once(" | ") {
        Some((prefix, rest)) if prefix.split_whitespace().count() <= 3 => rest,
        _ => line,
    };
    match line.find(". ") {
        Some(end) => &line[..end],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::{first_sentence, identifier_tokens, Words};

    #[test]
    fn names_split_in_every_convention() {
        assert_eq!(
            identifier_tokens("k8s_get_pod_logs"),
            ["k8s", "get", "pod", "logs"]
        );
        assert_eq!(identifier_tokens("getPodLogs"), ["get", "pod", "logs"]);
        assert_eq!(identifier_tokens("get-pod.logs"), ["get", "pod", "logs"]);
        assert_eq!(
            identifier_tokens("sendHTTPRequest"),
            ["send", "http", "request"]
        );
        assert_eq!(
            identifier_tokens("pull_request_read"),
            ["pullrequest", "read"]
        );
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let words = Words::new("Effects: NoExecute (evict existing pods). Read-only.");
        assert!(words.has_phrase("evict existing"));
        assert!(words.has_phrase("read only"));
        assert!(!words.has_phrase("execute"));
    }

    #[test]
    fn a_phrase_denied_wherever_it_occurs_is_not_affirmed() {
        let denied = Words::new("Secret values never sent to the AI; the AI never sees plaintext.");
        assert!(denied.has_phrase("secret values"));
        assert!(!denied.has_affirmed_phrase("secret values"));
        assert!(!denied.has_affirmed_phrase("plaintext"));
        let affirmed = Words::new("Returns the secret values. Secret values are not cached.");
        assert!(affirmed.has_affirmed_phrase("secret values"));
        assert!(Words::new("Sends plain text messages without formatting")
            .has_affirmed_phrase("plain text"));
        assert!(!Words::new("no values").has_affirmed_phrase("values here"));
    }

    #[test]
    fn the_first_sentence_ends_at_a_stop_or_a_line_break() {
        assert_eq!(first_sentence("List pods. Then more."), "List pods");
        assert_eq!(first_sentence("Get logs\nfrom a pod"), "Get logs");
        assert_eq!(
            first_sentence("Notion | Create a page\n400"),
            "Create a page"
        );
    }
}
