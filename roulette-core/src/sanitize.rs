//! Sanitising text that one person types and another person sees.
//!
//! Everything a person types into shared text (chat, names, project ideas, prompts, reports)
//! passes through [`sanitize`] before it is relayed, and clients run it again before display.
//! The input goes through a real VT parser ([`vte`]), so escape sequences of every shape (CSI,
//! OSC, DCS, SOS/PM/APC strings, two-byte ESC sequences) vanish whole rather than leaving their
//! parameters behind. What remains is filtered by character class: C0 and C1 controls, DEL,
//! bidirectional overrides and isolates, and zero-width or invisible characters are removed.
//! Tab and newline survive only where the [`TextField`] allows them.
//!
//! The result never contains a character that [`is_forbidden`] rejects, and sanitising twice
//! gives the same text as sanitising once.

use vte::{Params, Parser, Perform};

/// Which kind of shared text is being sanitised; decides whether tab and newline survive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextField {
    /// A chat message: one line; tab becomes a space.
    Chat,
    /// A display name or handle: one line, no tab.
    Name,
    /// A project idea: one line, no tab.
    Idea,
    /// A prompt for the agent: newlines and tabs kept.
    Prompt,
    /// A report about a partner: newlines kept, no tab.
    Report,
}

impl TextField {
    fn keeps_newline(self) -> bool {
        matches!(self, TextField::Prompt | TextField::Report)
    }

    /// What a tab becomes: itself, a space, or nothing.
    fn tab(self) -> Option<char> {
        match self {
            TextField::Prompt => Some('\t'),
            TextField::Chat => Some(' '),
            TextField::Name | TextField::Idea | TextField::Report => None,
        }
    }
}

/// Returns `text` with every escape sequence and every control, bidi or invisible character
/// removed, keeping tab and newline only where `field` allows them.
pub fn sanitize(field: TextField, text: &str) -> String {
    let mut collector = Collector {
        field,
        out: String::with_capacity(text.len()),
    };
    let mut parser: Parser = Parser::new();
    // Some terminals honour 8-bit C1 controls (U+0080..U+009F) as introducers: U+009B is CSI,
    // U+009D is OSC. Rewrite each as its 7-bit form (ESC and a letter) so the parser removes
    // the whole sequence it introduces, not just the introducer.
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if ('\u{80}'..='\u{9f}').contains(&c) {
            parser.advance(&mut collector, &text.as_bytes()[start..i]);
            parser.advance(&mut collector, &[0x1b, c as u8 - 0x40]);
            start = i + c.len_utf8();
        }
    }
    parser.advance(&mut collector, &text.as_bytes()[start..]);
    collector.out
}

/// True for characters that never survive sanitising in any field (tab and newline aside,
/// which depend on the field).
pub fn is_forbidden(c: char) -> bool {
    if c == '\t' || c == '\n' {
        return false;
    }
    c.is_control() || is_bidi_control(c) || is_invisible(c)
}

/// Bidirectional formatting characters that can reorder what a reader sees (Trojan Source).
fn is_bidi_control(c: char) -> bool {
    matches!(c,
        '\u{061C}'              // ARABIC LETTER MARK
        | '\u{200E}' | '\u{200F}' // LRM, RLM
        | '\u{202A}'..='\u{202E}' // LRE, RLE, PDF, LRO, RLO
        | '\u{2066}'..='\u{2069}' // LRI, RLI, FSI, PDI
    )
}

/// Zero-width and otherwise invisible characters that can hide or disguise text.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}'                  // SOFT HYPHEN
        | '\u{034F}'                // COMBINING GRAPHEME JOINER
        | '\u{115F}' | '\u{1160}'   // HANGUL fillers
        | '\u{17B4}' | '\u{17B5}'   // KHMER inherent vowels
        | '\u{180B}'..='\u{180F}'   // MONGOLIAN variation selectors and vowel separator
        | '\u{200B}'..='\u{200D}'   // ZERO WIDTH SPACE, NON-JOINER, JOINER
        | '\u{2028}' | '\u{2029}'   // LINE and PARAGRAPH SEPARATOR
        | '\u{2060}'..='\u{2064}'   // WORD JOINER, invisible operators
        | '\u{206A}'..='\u{206F}'   // deprecated format characters
        | '\u{3164}'                // HANGUL FILLER
        | '\u{FEFF}'                // ZERO WIDTH NO-BREAK SPACE (BOM)
        | '\u{FFA0}'                // HALFWIDTH HANGUL FILLER
        | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
        | '\u{1D173}'..='\u{1D17A}' // musical formatting
        | '\u{E0000}'..='\u{E007F}' // TAG characters
    )
}

struct Collector {
    field: TextField,
    out: String,
}

impl Collector {
    fn push(&mut self, c: char) {
        match c {
            '\n' if self.field.keeps_newline() => self.out.push('\n'),
            '\t' => {
                if let Some(t) = self.field.tab() {
                    self.out.push(t);
                }
            }
            c if is_forbidden(c) || c == '\n' => {}
            c => self.out.push(c),
        }
    }
}

impl Perform for Collector {
    fn print(&mut self, c: char) {
        self.push(c);
    }

    fn execute(&mut self, byte: u8) {
        // Only C0/C1 controls arrive here; tab and newline are the ones a field may keep.
        if byte == b'\t' || byte == b'\n' {
            self.push(byte as char);
        }
    }

    // Sequences are dropped whole: no parameters, intermediates or string contents survive.
    fn csi_dispatch(&mut self, _: &Params, _: &[u8], _: bool, _: char) {}
    fn esc_dispatch(&mut self, _: &[u8], _: bool, _: u8) {}
    fn osc_dispatch(&mut self, _: &[&[u8]], _: bool) {}
    fn hook(&mut self, _: &Params, _: &[u8], _: bool, _: char) {}
    fn put(&mut self, _: u8) {}
    fn unhook(&mut self) {}
}
