//! A line diff between two policy versions: the longest common subsequence of
//! lines, enough for documents of a few hundred lines.

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiffLine {
    /// `" "` unchanged, `"-"` only in the old text, `"+"` only in the new.
    pub(crate) sign: &'static str,
    pub(crate) text: String,
}

/// Beyond this many lines on a side, the diff is old-all-removed, new-all-added
/// (the table would be `old × new` cells).
const MAX_LINES: usize = 3000;

/// The lines of `old` and `new`, marked as kept, removed or added.
pub(crate) fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let line = |sign, text: &str| DiffLine {
        sign,
        text: text.to_owned(),
    };
    if a.len() > MAX_LINES || b.len() > MAX_LINES {
        return a
            .iter()
            .map(|t| line("-", t))
            .chain(b.iter().map(|t| line("+", t)))
            .collect();
    }
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(line(" ", a[i]));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(line("-", a[i]));
            i += 1;
        } else {
            out.push(line("+", b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|t| line("-", t)));
    out.extend(b[j..].iter().map(|t| line("+", t)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_line_shows_as_removed_then_added() {
        let diff = line_diff("a\nb\nc", "a\nx\nc");
        let signs: Vec<&str> = diff.iter().map(|l| l.sign).collect();
        assert_eq!(signs, [" ", "-", "+", " "]);
        assert_eq!(diff[2].text, "x");
    }

    #[test]
    fn identical_texts_have_no_changes() {
        assert!(line_diff("a\nb", "a\nb").iter().all(|l| l.sign == " "));
    }
}
