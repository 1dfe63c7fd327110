//! The scanner: source text to tokens, on demand (clox's `scanner.c`).

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    LeftParen,
    RightParen,
    LeftBrace,
    RightBrace,
    Comma,
    Dot,
    Minus,
    Plus,
    Semicolon,
    Slash,
    Star,
    Bang,
    BangEqual,
    Equal,
    EqualEqual,
    Greater,
    GreaterEqual,
    Less,
    LessEqual,
    Identifier,
    String,
    Number,
    And,
    Class,
    Else,
    False,
    For,
    Fun,
    If,
    Nil,
    Or,
    Print,
    Return,
    Super,
    This,
    True,
    Var,
    While,
    /// A scanning error; the lexeme is the message.
    Error,
    Eof,
}

/// A token: its kind, its text (the error message for [`Kind::Error`]) and its line.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token<'src> {
    pub(crate) kind: Kind,
    pub(crate) lexeme: &'src str,
    pub(crate) line: u32,
}

impl Token<'_> {
    /// A token that stands for no source text (the implicit `this`, or the empty name of a
    /// function's slot zero).
    pub(crate) fn synthetic(lexeme: &'static str) -> Token<'static> {
        Token {
            kind: Kind::Identifier,
            lexeme,
            line: 0,
        }
    }
}

pub(crate) struct Scanner<'src> {
    source: &'src str,
    start: usize,
    current: usize,
    line: u32,
}

impl<'src> Scanner<'src> {
    pub(crate) fn new(source: &'src str) -> Scanner<'src> {
        Scanner {
            source,
            start: 0,
            current: 0,
            line: 1,
        }
    }

    fn at_end(&self) -> bool {
        self.current >= self.source.len()
    }

    fn peek(&self) -> u8 {
        self.source
            .as_bytes()
            .get(self.current)
            .copied()
            .unwrap_or(0)
    }

    fn peek_next(&self) -> u8 {
        self.source
            .as_bytes()
            .get(self.current + 1)
            .copied()
            .unwrap_or(0)
    }

    fn advance(&mut self) -> u8 {
        let c = self.peek();
        self.current += 1;
        c
    }

    fn matches(&mut self, expected: u8) -> bool {
        if self.at_end() || self.peek() != expected {
            return false;
        }
        self.current += 1;
        true
    }

    fn token(&self, kind: Kind) -> Token<'src> {
        Token {
            kind,
            lexeme: &self.source[self.start..self.current],
            line: self.line,
        }
    }

    fn error(&self, message: &'static str) -> Token<'src> {
        Token {
            kind: Kind::Error,
            lexeme: message,
            line: self.line,
        }
    }

    fn skip_whitespace(&mut self) {
        loop {
            match self.peek() {
                b' ' | b'\r' | b'\t' => {
                    self.advance();
                }
                b'\n' => {
                    self.line += 1;
                    self.advance();
                }
                b'/' if self.peek_next() == b'/' => {
                    while self.peek() != b'\n' && !self.at_end() {
                        self.advance();
                    }
                }
                _ => return,
            }
        }
    }

    fn identifier_kind(&self) -> Kind {
        match &self.source[self.start..self.current] {
            "and" => Kind::And,
            "class" => Kind::Class,
            "else" => Kind::Else,
            "false" => Kind::False,
            "for" => Kind::For,
            "fun" => Kind::Fun,
            "if" => Kind::If,
            "nil" => Kind::Nil,
            "or" => Kind::Or,
            "print" => Kind::Print,
            "return" => Kind::Return,
            "super" => Kind::Super,
            "this" => Kind::This,
            "true" => Kind::True,
            "var" => Kind::Var,
            "while" => Kind::While,
            _ => Kind::Identifier,
        }
    }

    /// The next token.
    pub(crate) fn scan(&mut self) -> Token<'src> {
        self.skip_whitespace();
        self.start = self.current;
        if self.at_end() {
            return self.token(Kind::Eof);
        }
        let c = self.advance();
        if c.is_ascii_alphabetic() || c == b'_' {
            while self.peek().is_ascii_alphanumeric() || self.peek() == b'_' {
                self.advance();
            }
            return self.token(self.identifier_kind());
        }
        if c.is_ascii_digit() {
            while self.peek().is_ascii_digit() {
                self.advance();
            }
            if self.peek() == b'.' && self.peek_next().is_ascii_digit() {
                self.advance();
                while self.peek().is_ascii_digit() {
                    self.advance();
                }
            }
            return self.token(Kind::Number);
        }
        let kind = match c {
            b'(' => Kind::LeftParen,
            b')' => Kind::RightParen,
            b'{' => Kind::LeftBrace,
            b'}' => Kind::RightBrace,
            b';' => Kind::Semicolon,
            b',' => Kind::Comma,
            b'.' => Kind::Dot,
            b'-' => Kind::Minus,
            b'+' => Kind::Plus,
            b'/' => Kind::Slash,
            b'*' => Kind::Star,
            b'!' if self.matches(b'=') => Kind::BangEqual,
            b'!' => Kind::Bang,
            b'=' if self.matches(b'=') => Kind::EqualEqual,
            b'=' => Kind::Equal,
            b'<' if self.matches(b'=') => Kind::LessEqual,
            b'<' => Kind::Less,
            b'>' if self.matches(b'=') => Kind::GreaterEqual,
            b'>' => Kind::Greater,
            b'"' => {
                while self.peek() != b'"' && !self.at_end() {
                    if self.peek() == b'\n' {
                        self.line += 1;
                    }
                    self.advance();
                }
                if self.at_end() {
                    return self.error("Unterminated string.");
                }
                self.advance();
                Kind::String
            }
            _ => {
                // Skip the rest of a multi-byte character, so the next token starts on a
                // character boundary.
                while !self.source.is_char_boundary(self.current) {
                    self.current += 1;
                }
                return self.error("Unexpected character.");
            }
        };
        self.token(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_keywords_numbers_strings_and_errors() {
        let mut s = Scanner::new("var x = 1.5; // c\n\"a\nb\" @ classy é");
        let kinds: Vec<(Kind, &str, u32)> = std::iter::from_fn(|| {
            let t = s.scan();
            (t.kind != Kind::Eof).then_some((t.kind, t.lexeme, t.line))
        })
        .collect();
        assert_eq!(
            kinds,
            [
                (Kind::Var, "var", 1),
                (Kind::Identifier, "x", 1),
                (Kind::Equal, "=", 1),
                (Kind::Number, "1.5", 1),
                (Kind::Semicolon, ";", 1),
                (Kind::String, "\"a\nb\"", 3),
                (Kind::Error, "Unexpected character.", 3),
                (Kind::Identifier, "classy", 3),
                (Kind::Error, "Unexpected character.", 3),
            ]
        );
    }
}
