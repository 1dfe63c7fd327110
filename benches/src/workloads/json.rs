//! json: a deterministic document of `size` MB is parsed into the heap, walked, half of its
//! arrays are replaced with fresh ones, and it is walked again.
//!
//! The document has a fixed shape: a top-level array of objects of 4 to 8 keys drawn from a
//! 50-word vocabulary; every value is a string (40%: a distinct random string of 5 to 30
//! characters, never interned), a number (30%: an integer below a million), `true`, `false` or
//! `null` (10%), or an array of 0 to 20 values or an object (20%), containers nesting at most
//! four deep. Every peer parses the same complete in-memory text into its own representation,
//! materialising every array and object (no lazy tape), and walks it through its public API.
//!
//! The walks print what they find (values; strings and their characters; numbers and their sum;
//! literals; arrays and their elements; objects and their entries); "fresh" arrays hold the
//! same elements in a new allocation, so the second walk prints the same figures. Arrays are
//! replaced in post-order, every second one counted from the first, the root included.
//!
//! Pinion's values are inline (`Json`, 16 bytes: scalars are not heap objects); strings are
//! byte strings, arrays `GcVec<Json>` and objects `GcMap<GcBytes, Json>` keyed by the
//! vocabulary's words, interned once before the parse. Pinion also reports `objects per value`:
//! every object allocated during the parse (nursery, old, large, collection storage) divided by
//! the values parsed.

use gc_core::{GcBytes, GcMap, GcVec, Handle, Member, Scope, Trace};

/// The words object keys are drawn from.
const VOCABULARY: [&str; 50] = [
    "id", "name", "title", "kind", "status", "value", "count", "total", "price", "owner", "tags",
    "items", "children", "parent", "created", "updated", "author", "score", "rank", "level",
    "color", "size", "weight", "height", "width", "label", "group", "region", "city", "country",
    "email", "phone", "url", "note", "comment", "rating", "active", "visible", "enabled", "source",
    "target", "start", "end", "duration", "version", "checksum", "flags", "mode", "scope", "extra",
];

/// Deepest nesting of containers below the root array.
const MAX_DEPTH: u32 = 4;

/// What a walk finds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Tally {
    values: u64,
    strings: u64,
    chars: u64,
    numbers: u64,
    sum: u64,
    literals: u64,
    arrays: u64,
    elements: u64,
    objects: u64,
    entries: u64,
}

impl Tally {
    fn lines(&self) -> Vec<String> {
        vec![
            format!("values: {}", self.values),
            format!("strings: {} chars {}", self.strings, self.chars),
            format!("numbers: {} sum {}", self.numbers, self.sum),
            format!("literals: {}", self.literals),
            format!("arrays: {} elements {}", self.arrays, self.elements),
            format!("objects: {} entries {}", self.objects, self.entries),
        ]
    }
}

/// A fixed-seed xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The document of `mb` megabytes, and what a walk of it finds.
fn document(mb: u64) -> (String, Tally) {
    let target = (mb.max(1) as usize) << 20;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = String::with_capacity(target + 4096);
    let mut tally = Tally {
        values: 1,
        arrays: 1,
        ..Tally::default()
    };
    out.push('[');
    let mut first = true;
    while out.len() < target {
        if !first {
            out.push(',');
        }
        first = false;
        tally.elements += 1;
        object(&mut rng, &mut out, &mut tally, 1);
    }
    out.push(']');
    (out, tally)
}

fn object(rng: &mut Rng, out: &mut String, tally: &mut Tally, depth: u32) {
    tally.values += 1;
    tally.objects += 1;
    let keys = 4 + rng.below(5) as usize;
    let mut words: Vec<usize> = Vec::with_capacity(keys);
    while words.len() < keys {
        let w = rng.below(VOCABULARY.len() as u64) as usize;
        if !words.contains(&w) {
            words.push(w);
        }
    }
    out.push('{');
    for (i, &w) in words.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(VOCABULARY[w]);
        out.push_str("\":");
        tally.entries += 1;
        value(rng, out, tally, depth);
    }
    out.push('}');
}

fn value(rng: &mut Rng, out: &mut String, tally: &mut Tally, depth: u32) {
    let roll = rng.below(100);
    match roll {
        0..=39 => {
            tally.values += 1;
            tally.strings += 1;
            let len = 5 + rng.below(26);
            tally.chars += len;
            out.push('"');
            for _ in 0..len {
                out.push(char::from(b'a' + rng.below(26) as u8));
            }
            out.push('"');
        }
        80..=99 if depth < MAX_DEPTH => {
            if roll < 90 {
                tally.values += 1;
                tally.arrays += 1;
                let len = rng.below(21);
                tally.elements += len;
                out.push('[');
                for i in 0..len {
                    if i > 0 {
                        out.push(',');
                    }
                    value(rng, out, tally, depth + 1);
                }
                out.push(']');
            } else {
                object(rng, out, tally, depth + 1);
            }
        }
        70..=79 => {
            tally.values += 1;
            tally.literals += 1;
            out.push_str(["true", "false", "null"][rng.below(3) as usize]);
        }
        _ => {
            tally.values += 1;
            tally.numbers += 1;
            let n = rng.below(1_000_000);
            tally.sum += n;
            out.push_str(&n.to_string());
        }
    }
}

/// The output every peer must print.
pub fn expected(mb: u64) -> Vec<String> {
    let (_, tally) = document(mb);
    let replaced = tally.arrays.div_ceil(2);
    let mut lines = tally.lines();
    lines.push(format!("replaced: {replaced} arrays"));
    lines.extend(tally.lines());
    lines
}

/// Runs json of `mb` megabytes for `peer`.
pub fn run(peer: &str, mb: u64) -> Result<Vec<String>, String> {
    match peer {
        "pinion" => pinion(mb),
        "serde_json" => Ok(serde(mb)),
        "box" | "rc" | "bumpalo" | "gc" | "gc-arena" | "dumpster" | "bdwgc" => Err(format!(
            "json is written for pinion and serde_json; {peer} has no JSON value type of its own"
        )),
        other => Err(super::unknown_peer(other)),
    }
}

// ----- serde_json ----------------------------------------------------------------------

fn serde(mb: u64) -> Vec<String> {
    use serde_json::Value;
    let (text, _) = document(mb);
    let mut doc: Value = serde_json::from_str(&text).expect("the generator writes valid JSON");
    fn walk(v: &Value, t: &mut Tally) {
        t.values += 1;
        match v {
            Value::Null | Value::Bool(_) => t.literals += 1,
            Value::Number(n) => {
                t.numbers += 1;
                t.sum += n.as_u64().expect("integers");
            }
            Value::String(s) => {
                t.strings += 1;
                t.chars += s.len() as u64;
            }
            Value::Array(a) => {
                t.arrays += 1;
                t.elements += a.len() as u64;
                a.iter().for_each(|x| walk(x, t));
            }
            Value::Object(o) => {
                t.objects += 1;
                t.entries += o.len() as u64;
                o.values().for_each(|x| walk(x, t));
            }
        }
    }
    fn replace(v: &mut Value, counter: &mut u64, replaced: &mut u64) {
        match v {
            Value::Array(a) => {
                a.iter_mut().for_each(|x| replace(x, counter, replaced));
                if counter.is_multiple_of(2) {
                    let mut fresh = Vec::with_capacity(a.len());
                    fresh.append(a);
                    *a = fresh;
                    *replaced += 1;
                }
                *counter += 1;
            }
            Value::Object(o) => o.values_mut().for_each(|x| replace(x, counter, replaced)),
            _ => {}
        }
    }
    let mut first = Tally::default();
    walk(&doc, &mut first);
    let (mut counter, mut replaced) = (0, 0);
    replace(&mut doc, &mut counter, &mut replaced);
    let mut second = Tally::default();
    walk(&doc, &mut second);
    let mut lines = first.lines();
    lines.push(format!("replaced: {replaced} arrays"));
    lines.extend(second.lines());
    lines
}

// ----- Pinion --------------------------------------------------------------------------

/// A JSON value in the heap: scalars inline, strings and containers by reference.
#[derive(Trace, Debug)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number (the document's are integers).
    Num(u64),
    /// A string.
    Str(Member<GcBytes>),
    /// An array.
    Arr(Member<GcVec<Json>>),
    /// An object, keyed by interned key strings.
    Obj(Member<GcMap<GcBytes, Json>>),
}

/// The parser's position in the text.
struct Parser<'t> {
    text: &'t [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> u8 {
        self.text[self.at]
    }

    fn eat(&mut self, b: u8) {
        debug_assert_eq!(self.peek(), b, "at byte {}", self.at);
        self.at += 1;
    }

    /// The bytes of a string (the generator writes no escapes).
    fn string(&mut self) -> &[u8] {
        self.eat(b'"');
        let start = self.at;
        while self.peek() != b'"' {
            self.at += 1;
        }
        let s = &self.text[start..self.at];
        self.at += 1;
        s
    }
}

/// The interned keys: the vocabulary's words, allocated once.
struct Keys<'k> {
    words: Vec<(&'static [u8], Handle<'k, GcBytes>)>,
}

impl Keys<'_> {
    fn find(&self, word: &[u8]) -> Handle<'_, GcBytes> {
        self.words
            .iter()
            .find(|(w, _)| *w == word)
            .map(|&(_, h)| h)
            .expect("a vocabulary word")
    }
}

/// Parses one value into a mirror whose handles live in `s`.
fn parse_value<'s>(s: &mut Scope<'s>, p: &mut Parser<'_>, keys: &Keys<'_>) -> JsonInit<'s> {
    match p.peek() {
        b'"' => {
            let text = p.string();
            JsonInit::Str(Some(s.alloc_bytes(text).expect("allocation")))
        }
        b'[' => JsonInit::Arr(Some(s.escape(|s| {
            p.eat(b'[');
            let mut items = Vec::new();
            while p.peek() != b']' {
                if !items.is_empty() {
                    p.eat(b',');
                }
                items.push(parse_value(s, p, keys));
            }
            p.eat(b']');
            let array = s.alloc_vec::<Json>(items.len()).expect("allocation");
            for item in items {
                s.vec_push(array, item);
            }
            array
        }))),
        b'{' => JsonInit::Obj(Some(s.escape(|s| {
            p.eat(b'{');
            let mut entries = Vec::new();
            while p.peek() != b'}' {
                if !entries.is_empty() {
                    p.eat(b',');
                }
                let key = keys.find(p.string());
                p.eat(b':');
                entries.push((key, parse_value(s, p, keys)));
            }
            p.eat(b'}');
            let object = s
                .alloc_map::<GcBytes, Json>(entries.len())
                .expect("allocation");
            for (key, value) in entries {
                s.map_insert(object, key, value).expect("allocation");
            }
            object
        }))),
        b't' => {
            p.at += 4;
            JsonInit::Bool(true)
        }
        b'f' => {
            p.at += 5;
            JsonInit::Bool(false)
        }
        b'n' => {
            p.at += 4;
            JsonInit::Null
        }
        _ => {
            let start = p.at;
            while p.at < p.text.len() && p.peek().is_ascii_digit() {
                p.at += 1;
            }
            let digits = std::str::from_utf8(&p.text[start..p.at]).expect("ASCII digits");
            JsonInit::Num(digits.parse().expect("an integer"))
        }
    }
}

fn walk(s: &Scope<'_>, v: &Json, t: &mut Tally) {
    t.values += 1;
    match v {
        Json::Null | Json::Bool(_) => t.literals += 1,
        Json::Num(n) => {
            t.numbers += 1;
            t.sum += n;
        }
        Json::Str(m) => {
            t.strings += 1;
            t.chars += s.deref(m).map_or(0, |b| b.len()) as u64;
        }
        Json::Arr(m) => {
            let items = s.deref(m).expect("a complete array");
            t.arrays += 1;
            t.elements += items.len() as u64;
            items.iter().for_each(|x| walk(s, x, t));
        }
        Json::Obj(m) => {
            let object = s.deref(m).expect("a complete object");
            t.objects += 1;
            t.entries += object.len() as u64;
            object.iter().for_each(|(_, x)| walk(s, x, t));
        }
    }
}

/// The mirror of a value held in the heap: the same scalar, or the same reference rooted in
/// `s`.
fn mirror_of<'s>(s: &Scope<'s>, v: &Json) -> JsonInit<'s> {
    match v {
        Json::Null => JsonInit::Null,
        Json::Bool(b) => JsonInit::Bool(*b),
        Json::Num(n) => JsonInit::Num(*n),
        Json::Str(m) => JsonInit::Str(s.root(m)),
        Json::Arr(m) => JsonInit::Arr(s.root(m)),
        Json::Obj(m) => JsonInit::Obj(s.root(m)),
    }
}

/// Replaces every second array below and including `array` (post-order) with a fresh one
/// holding the same elements; returns the array that now stands for `array`.
fn replace_arrays<'s>(
    s: &mut Scope<'s>,
    array: Handle<'_, GcVec<Json>>,
    counter: &mut u64,
    replaced: &mut u64,
) -> Handle<'s, GcVec<Json>> {
    s.escape(|s| {
        let len = s.get(array).len();
        for i in 0..len {
            s.scope(|s| {
                let child = mirror_of(s, &s.get(array)[i]);
                match child {
                    JsonInit::Arr(Some(a)) => {
                        let fresh = replace_arrays(s, a, counter, replaced);
                        s.vec_set(array, i, JsonInit::Arr(Some(fresh)));
                    }
                    JsonInit::Obj(Some(o)) => replace_in_object(s, o, counter, replaced),
                    _ => {}
                }
            });
        }
        let result = if counter.is_multiple_of(2) {
            *replaced += 1;
            let fresh = s.alloc_vec::<Json>(len).expect("allocation");
            for i in 0..len {
                s.scope(|s| {
                    let item = mirror_of(s, &s.get(array)[i]);
                    s.vec_push(fresh, item);
                });
            }
            fresh
        } else {
            s.dup(array)
        };
        *counter += 1;
        result
    })
}

fn replace_in_object(
    s: &mut Scope<'_>,
    object: Handle<'_, GcMap<GcBytes, Json>>,
    counter: &mut u64,
    replaced: &mut u64,
) {
    let keys: Vec<Handle<'_, GcBytes>> = s
        .get(object)
        .iter()
        .map(|(k, _)| s.root(k).expect("keys are non-null"))
        .collect();
    for key in keys {
        s.scope(|s| {
            let value = mirror_of(s, s.map_get(object, key).expect("the key is there"));
            match value {
                JsonInit::Arr(Some(a)) => {
                    let fresh = replace_arrays(s, a, counter, replaced);
                    s.map_insert(object, key, JsonInit::Arr(Some(fresh)))
                        .expect("allocation");
                }
                JsonInit::Obj(Some(o)) => replace_in_object(s, o, counter, replaced),
                _ => {}
            }
        });
    }
}

fn pinion(mb: u64) -> Result<Vec<String>, String> {
    let (text, _) = document(mb);
    let mut heap = super::pinion_heap()?;
    let lines = heap.scope(|s| {
        let keys = Keys {
            words: VOCABULARY
                .iter()
                .map(|w| {
                    (
                        w.as_bytes(),
                        s.alloc_bytes(w.as_bytes()).expect("allocation"),
                    )
                })
                .collect(),
        };
        let before = s.stats().objects_allocated;
        let mut parser = Parser {
            text: text.as_bytes(),
            at: 0,
        };
        let root = match parse_value(s, &mut parser, &keys) {
            JsonInit::Arr(Some(root)) => root,
            _ => unreachable!("the document is an array"),
        };
        let objects = s.stats().objects_allocated - before;
        let mut first = Tally::default();
        for item in s.get(root) {
            walk(s, item, &mut first);
        }
        first.values += 1;
        first.arrays += 1;
        first.elements += s.get(root).len() as u64;
        let per_value = objects as f64 / first.values as f64;
        println!("stat: objects_per_value={per_value:.3}");
        eprintln!(
            "pinion: objects per value: {per_value:.3} ({objects} objects, {} values)",
            first.values
        );
        let (mut counter, mut replaced) = (0, 0);
        let root = replace_arrays(s, root, &mut counter, &mut replaced);
        let mut second = Tally {
            values: 1,
            arrays: 1,
            elements: s.get(root).len() as u64,
            ..Tally::default()
        };
        for item in s.get(root) {
            walk(s, item, &mut second);
        }
        let mut lines = first.lines();
        lines.push(format!("replaced: {replaced} arrays"));
        lines.extend(second.lines());
        lines
    });
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinion_and_serde_json_print_the_expected_lines() {
        let want = expected(1);
        assert_eq!(run("serde_json", 1).unwrap(), want);
        assert_eq!(run("pinion", 1).unwrap(), want);
        assert!(want[0].starts_with("values: "));
    }

    #[test]
    fn the_document_has_the_promised_shape() {
        let (text, t) = document(2);
        assert!(text.len() >= 2 << 20);
        let share = |n: u64| n as f64 / t.values as f64;
        assert!((0.3..0.5).contains(&share(t.strings)), "{t:?}");
        assert!((0.2..0.4).contains(&share(t.numbers)), "{t:?}");
        assert!(t.arrays > 100 && t.objects > 100);
    }
}
