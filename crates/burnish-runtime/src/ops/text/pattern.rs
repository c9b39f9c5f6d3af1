//! `RegexFullMatch`: RE2 patterns run with the `regex` crate.
//!
//! The two syntaxes nearly agree; where they differ the pattern is rewritten first: RE2's Perl
//! classes (`\w`, `\d`, `\s`, `\b` and their negations) are ASCII-only, `\Q...\E` quotes a
//! literal, and inside a bracket class `[`, `&` and `~` are plain characters.

use burnish_model::Buffer;
use regex::{Regex, RegexBuilder};

use super::{strings, upload};
use crate::ops::{BuildCtx, Op, op};

const WORD: &str = "0-9A-Za-z_";
const DIGIT: &str = "0-9";
const SPACE: &str = "\\t\\n\\f\\r ";

/// The `regex`-crate spelling of an RE2 Perl class escape (`w`, `W`, `d`, ...): a bracket
/// class outside brackets, a range list (or nested class) inside them.
fn perl_class(c: char, in_class: bool) -> Option<String> {
    let (set, negated) = match c {
        'w' => (WORD, false),
        'W' => (WORD, true),
        'd' => (DIGIT, false),
        'D' => (DIGIT, true),
        's' => (SPACE, false),
        'S' => (SPACE, true),
        _ => return None,
    };
    Some(match (in_class, negated) {
        (true, false) => set.to_string(),
        (_, true) => format!("[^{set}]"),
        (false, false) => format!("[{set}]"),
    })
}

/// Rewrites an RE2 pattern into the `regex` crate's syntax with the same meaning.
pub(crate) fn translate(re2: &str) -> String {
    let chars: Vec<char> = re2.chars().collect();
    let mut out = String::with_capacity(re2.len() + 16);
    let mut in_class = false;
    let mut class_start = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&n) = chars.get(i + 1) else {
                out.push('\\');
                break;
            };
            if let Some(class) = perl_class(n, in_class) {
                out.push_str(&class);
            } else if (n == 'b' || n == 'B') && !in_class {
                out.push_str(&format!("(?-u:\\{n})"));
            } else if n == 'Q' && !in_class {
                let rest: String = chars[i + 2..].iter().collect();
                let (lit, consumed) = match rest.find("\\E") {
                    Some(end) => (&rest[..end], rest[..end].chars().count() + 2),
                    None => (rest.as_str(), rest.chars().count()),
                };
                out.push_str(&regex::escape(lit));
                i += 2 + consumed;
                continue;
            } else {
                out.push('\\');
                out.push(n);
            }
            i += 2;
            continue;
        }
        if in_class {
            match c {
                ']' if i > class_start => in_class = false,
                '[' if chars.get(i + 1) == Some(&':') => {
                    let rest: String = chars[i..].iter().collect();
                    if let Some(end) = rest.find(":]") {
                        out.push_str(&rest[..end + 2]);
                        i += rest[..end + 2].chars().count();
                        continue;
                    }
                    out.push_str("\\[");
                    i += 1;
                    continue;
                }
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                    i += 1;
                    continue;
                }
                _ => {}
            }
        } else if c == '[' {
            in_class = true;
            class_start = i + 1;
            if chars.get(i + 1) == Some(&'^') {
                out.push_str("[^");
                class_start = i + 2;
                i += 2;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Compiles an RE2 pattern for whole-string matching.
pub(crate) fn compile_full(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(&format!("\\A(?:{})\\z", translate(pattern)))
        .size_limit(1 << 24)
        .build()
        .map_err(|e| format!("RegexFullMatch pattern `{pattern}` is invalid: {e}"))
}

/// `RegexFullMatch(X)`: true where the whole string matches `pattern`.
pub fn regex_full_match(ctx: &BuildCtx) -> Result<Box<dyn Op>, String> {
    let pattern = ctx
        .node
        .attrs
        .get("pattern")
        .map(|_| ctx.string("pattern", ""))
        .transpose()?
        .ok_or("RegexFullMatch needs the `pattern` attribute")?;
    let re = compile_full(&pattern)?;
    op(move |mut ins| {
        let (shape, xs) = strings(&ins.take(0)?, "RegexFullMatch input X")?;
        let hits = xs.iter().map(|s| re.is_match(s)).collect();
        Ok(vec![upload(shape, Buffer::Bool(hits))?])
    })
}
