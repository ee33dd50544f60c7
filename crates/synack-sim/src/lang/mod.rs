//! The languages the ladder, the summary and the pictures speak, and the
//! one table of what they say in each. `synack demo --lang zh` draws in
//! Chinese, with the words the seeds use (三次握手, 四次挥手, 报文段, 序列号,
//! 重传, and each state as the RFC names it with the seeds' term beside it:
//! `ESTABLISHED(已建立)`); `--lang en`, the default, is the English of the
//! golden files.
//!
//! Everything a renderer prints in words comes from one of two tables:
//! [`words`], the vocabulary of the ladder, the SVG, the state machine,
//! the HTML page and the demo's header and summary (state names, why a
//! state changed, what befell a segment, recovery events, headers); and
//! [`story`], what the scenarios say along the way and sum up afterwards.
//! A function per message takes the values it shows. Renderers take a
//! [`Lang`]; what a scenario says is kept in the trace as a [`Text`], in
//! every language at once, so one run draws in any of them and the JSON
//! stays English.
//!
//! Terminals give a CJK character two columns: [`width`], [`pad_left`],
//! [`pad_right`], [`truncate`] and [`wrap`] count display columns, not
//! characters, so a Chinese ladder keeps to 80 columns too.

pub mod failure;
pub mod story;
pub mod words;

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// A language the pictures speak.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English: the default, and what the golden files hold.
    #[default]
    En,
    /// Simplified Chinese, in the seeds' terms.
    Zh,
}

impl Lang {
    /// Every language, in the order `--lang` lists them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The code `--lang` takes: `en`, `zh`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// All codes, comma-separated (for error messages).
    pub fn codes() -> String {
        Lang::ALL.map(Lang::code).join(", ")
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        Lang::ALL
            .into_iter()
            .find(|l| l.code() == s)
            .ok_or_else(|| format!("unknown language '{s}'; choose one of: {}", Lang::codes()))
    }
}

/// A message in every language known at compile time, for tables kept in
/// constants (the scenarios' titles, the state machine's labels).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct StaticText {
    pub en: &'static str,
    pub zh: &'static str,
}

impl StaticText {
    pub const fn new(en: &'static str, zh: &'static str) -> StaticText {
        StaticText { en, zh }
    }

    pub fn get(self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Zh => self.zh,
        }
    }
}

/// One message in every language: what a scenario said (a note in the
/// trace, a line of its summary), to be drawn later in whichever language
/// the reader asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text {
    en: Cow<'static, str>,
    zh: Cow<'static, str>,
}

impl Text {
    /// A message known at compile time.
    pub const fn fixed(en: &'static str, zh: &'static str) -> Text {
        Text {
            en: Cow::Borrowed(en),
            zh: Cow::Borrowed(zh),
        }
    }

    pub fn new(en: impl Into<Cow<'static, str>>, zh: impl Into<Cow<'static, str>>) -> Text {
        Text {
            en: en.into(),
            zh: zh.into(),
        }
    }

    /// Text that reads the same in every language: a call such as
    /// `close()`, an address, bytes of data.
    pub fn same(text: impl Into<Cow<'static, str>>) -> Text {
        let text = text.into();
        Text {
            en: text.clone(),
            zh: text,
        }
    }

    /// `f` in every language.
    pub fn by(f: impl Fn(Lang) -> String) -> Text {
        Text::new(f(Lang::En), f(Lang::Zh))
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }
}

/// Columns a terminal gives `c`: two for the wide and fullwidth characters
/// of East Asian scripts (Unicode's East Asian Width W and F: CJK
/// ideographs, kana, Hangul, fullwidth punctuation), none for combining
/// marks and zero-width characters, one for the rest (box drawing, arrows
/// and the other ambiguous-width symbols the ladder uses included, as
/// terminals outside CJK locales draw them).
pub fn char_width(c: char) -> usize {
    let u = c as u32;
    let zero = matches!(u,
        0x0300..=0x036F | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2064 | 0xFE00..=0xFE0F | 0xFEFF
    );
    if zero {
        return 0;
    }
    let wide = matches!(u,
        0x1100..=0x115F        // Hangul Jamo initials
        | 0x2E80..=0x303E      // CJK radicals, Kangxi, ideographic punctuation
        | 0x3041..=0x33FF      // kana, bopomofo, CJK strokes and compatibility
        | 0x3400..=0x4DBF      // CJK extension A
        | 0x4E00..=0x9FFF      // CJK unified ideographs
        | 0xA000..=0xA4CF      // Yi
        | 0xAC00..=0xD7A3      // Hangul syllables
        | 0xF900..=0xFAFF      // CJK compatibility ideographs
        | 0xFE10..=0xFE19      // vertical forms
        | 0xFE30..=0xFE6F      // CJK compatibility forms, small forms
        | 0xFF00..=0xFF60      // fullwidth forms
        | 0xFFE0..=0xFFE6      // fullwidth signs
        | 0x1F300..=0x1F64F    // pictographs and emoticons
        | 0x1F900..=0x1F9FF    // supplemental pictographs
        | 0x20000..=0x2FFFD    // CJK extensions B and on
        | 0x30000..=0x3FFFD
    );
    if wide {
        2
    } else {
        1
    }
}

/// Columns `text` takes on a terminal.
pub fn width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

/// `text` right-aligned in `columns` (unchanged if it is wider).
pub fn pad_left(text: &str, columns: usize) -> String {
    format!("{}{text}", " ".repeat(columns.saturating_sub(width(text))))
}

/// `text` left-aligned in `columns` (unchanged if it is wider).
pub fn pad_right(text: &str, columns: usize) -> String {
    format!("{text}{}", " ".repeat(columns.saturating_sub(width(text))))
}

/// The longest start of `text` that fits `columns`, with `…` at the end
/// when something was cut (a wide character is never split).
pub fn truncate(text: &str, columns: usize) -> String {
    if width(text) <= columns {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_width(c);
        if used + w + 1 > columns {
            break;
        }
        out.push(c);
        used += w;
    }
    if columns > 0 {
        out.push('…');
    }
    out
}

/// `text` in lines of at most `columns` display columns, broken at spaces
/// and, in Chinese, between characters (a longer word keeps a line of its
/// own). Not after an opening bracket, not before closing punctuation, and
/// not inside an ASCII parenthesis such as a state's `(已建立)`.
pub fn wrap(text: &str, columns: usize) -> Vec<String> {
    // Each line with its width.
    let mut lines: Vec<(String, usize)> = Vec::new();
    for word in text.split(' ') {
        for (i, piece) in pieces(word).into_iter().enumerate() {
            let sep = if i == 0 { " " } else { "" };
            let w = width(piece);
            match lines.last_mut() {
                Some((l, lw)) if *lw + sep.len() + w <= columns => {
                    l.push_str(sep);
                    l.push_str(piece);
                    *lw += sep.len() + w;
                }
                _ => lines.push((piece.to_string(), w)),
            }
        }
    }
    lines.into_iter().map(|(l, _)| l).collect()
}

/// A word cut where a line may break inside it: around wide characters.
/// A word of narrow characters is one piece (English wraps at spaces only).
fn pieces(word: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0usize;
    let mut prev: Option<char> = None;
    for (i, c) in word.char_indices() {
        if let Some(p) = prev {
            let breakable =
                (char_width(p) == 2 || char_width(c) == 2) && depth == 0 && !opens(p) && !closes(c);
            if breakable {
                out.push(&word[start..i]);
                start = i;
            }
        }
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        prev = Some(c);
    }
    out.push(&word[start..]);
    out
}

/// Punctuation a line may not end with.
fn opens(c: char) -> bool {
    "([{（「『“‘《〈【".contains(c)
}

/// Punctuation a line may not start with.
fn closes(c: char) -> bool {
    ")]},.;:!?）」』”’》〉】，。、；：！？…".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cjk_takes_two_columns_and_the_ladder_s_symbols_one() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("已建立"), 6);
        assert_eq!(width("ESTABLISHED(已建立)"), 19);
        assert_eq!(width("，。：；（）"), 12);
        assert_eq!(width("──▶◀✕→«»⚑⋮∞×↔…—·§"), 17);
        assert_eq!(width("e\u{301}"), 1);
    }

    #[test]
    fn padding_and_truncation_count_columns() {
        assert_eq!(pad_left("客户端", 8), "  客户端");
        assert_eq!(pad_right("客户端", 7), "客户端 ");
        assert_eq!(pad_right("client", 7), "client ");
        assert_eq!(pad_left("toolong", 3), "toolong");
        assert_eq!(truncate("三次握手", 5), "三次…");
        assert_eq!(truncate("three", 5), "three");
        assert_eq!(truncate("three-way", 6), "three…");
    }

    #[test]
    fn english_wraps_at_spaces_only() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("a  b", 10), ["a  b"]);
        assert_eq!(
            wrap("averyveryverylongword x", 5),
            ["averyveryverylongword", "x"]
        );
    }

    #[test]
    fn chinese_wraps_between_characters_by_width() {
        let lines = wrap("客户端发送一个带SYN标志的报文段", 10);
        assert!(lines.iter().all(|l| width(l) <= 10), "{lines:?}");
        assert_eq!(lines.concat(), "客户端发送一个带SYN标志的报文段");
        // Closing punctuation stays with what it closes; a state keeps its
        // gloss.
        let lines = wrap("进入状态，ESTABLISHED(已建立)。", 12);
        assert!(lines
            .iter()
            .all(|l| !l.starts_with('，') && !l.starts_with('。')));
        assert!(
            lines.iter().any(|l| l.contains("ESTABLISHED(已建立)")),
            "{lines:?}"
        );
    }

    #[test]
    fn languages_parse_from_their_codes() {
        assert_eq!("zh".parse::<Lang>(), Ok(Lang::Zh));
        assert_eq!("en".parse::<Lang>(), Ok(Lang::En));
        let e = "xx".parse::<Lang>().unwrap_err();
        assert_eq!(e, "unknown language 'xx'; choose one of: en, zh");
    }
}
