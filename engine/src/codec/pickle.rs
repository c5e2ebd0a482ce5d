//! A pickle *decoder* for protocols 0–5 that never executes anything.
//!
//! The stack machine builds an arena of objects first (so `APPENDS`/`SETITEMS`/`BUILD` on a
//! memoized object are seen through every reference, as in Python), then converts the arena to a
//! `PyValue` tree. Globals and calls stay symbolic. Every resource is bounded: input size, arena
//! objects, stack and memo size, integer width, and the size and depth of the output tree (shared
//! references are expanded, so the output budget is what stops "billion laughs" pickles).

use std::collections::HashMap;

use crate::value::PyValue;

mod literals;
mod output;

use literals::{decode_long, parse_decimal, raw_unicode_escape, unquote_py2};
use output::Output;

pub const MAX_INPUT: usize = 16 << 20;
pub const MAX_OBJECTS: usize = 500_000;
pub const MAX_STACK: usize = 1_000_000;
pub const MAX_MEMO: usize = 500_000;
/// LONG1/LONG4 wider than this are shown as an opaque marker (decimal conversion is quadratic).
pub const MAX_LONG_BYTES: usize = 1024;
pub const MAX_DEPTH: usize = 100;
pub const MAX_OUT_NODES: usize = 500_000;
pub const MAX_OUT_BYTES: usize = 64 << 20;

type Id = usize;

enum Obj {
    Val(PyValue),
    List(Vec<Id>),
    Tuple(Vec<Id>),
    Set(Vec<Id>),
    FrozenSet(Vec<Id>),
    Dict(Vec<(Id, Id)>),
    /// `items` / `pairs` collect APPENDS / SETITEMS sent to an object we cannot evaluate
    /// (e.g. `collections.OrderedDict()`), so they still show up as arguments.
    Call {
        func: Id,
        args: Vec<Id>,
        items: Vec<Id>,
        pairs: Vec<(Id, Id)>,
    },
    /// `base` is the innermost non-BUILD object, kept so that mutations find it in O(1).
    Build {
        obj: Id,
        state: Id,
        base: Id,
    },
}

/// Decodes a pickle; `Ok((value, lossy))` where `lossy` means something was shown symbolically
/// beyond the usual globals/calls (persistent ids, cut-off depth, out-of-band buffers, ...).
pub fn loads(data: &[u8]) -> Result<(PyValue, bool), String> {
    if data.len() > MAX_INPUT {
        return Err(format!("pickle larger than {MAX_INPUT} bytes"));
    }
    let mut m = Machine {
        data,
        pos: 0,
        arena: Vec::new(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        lossy: false,
    };
    let root = m.run()?;
    let mut out = Output {
        arena: &m.arena,
        visiting: vec![false; m.arena.len()],
        nodes: 0,
        bytes: 0,
        lossy: m.lossy,
    };
    let v = out.convert(root, 0);
    Ok((v, out.lossy))
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    arena: Vec<Obj>,
    stack: Vec<Id>,
    marks: Vec<usize>,
    memo: HashMap<u32, Id>,
    lossy: bool,
}

fn e<T>(msg: impl Into<String>) -> Result<T, String> {
    Err(msg.into())
}

impl<'a> Machine<'a> {
    fn read(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len());
        let Some(end) = end else {
            return e(format!("truncated: need {n} bytes at offset {}", self.pos));
        };
        let data: &'a [u8] = self.data;
        let s = &data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.read(1)?[0])
    }
    fn le<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.read(N)?);
        Ok(a)
    }
    fn len4(&mut self) -> Result<usize, String> {
        let n = i32::from_le_bytes(self.le()?);
        usize::try_from(n).map_err(|_| format!("negative length {n}"))
    }
    fn len8(&mut self) -> Result<usize, String> {
        let n = u64::from_le_bytes(self.le()?);
        usize::try_from(n).map_err(|_| format!("length {n} too large"))
    }
    fn line_bytes(&mut self) -> Result<&'a [u8], String> {
        let data: &'a [u8] = self.data;
        let rest = &data[self.pos..];
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            return e("truncated line");
        };
        self.pos += nl + 1;
        Ok(&rest[..nl])
    }
    fn line(&mut self) -> Result<&'a str, String> {
        std::str::from_utf8(self.line_bytes()?).map_err(|_| "line is not UTF-8".into())
    }

    fn new_obj(&mut self, o: Obj) -> Result<Id, String> {
        if self.arena.len() >= MAX_OBJECTS {
            return e(format!("more than {MAX_OBJECTS} objects"));
        }
        self.arena.push(o);
        Ok(self.arena.len() - 1)
    }
    fn push_id(&mut self, id: Id) -> Result<(), String> {
        if self.stack.len() >= MAX_STACK {
            return e("stack too deep");
        }
        self.stack.push(id);
        Ok(())
    }
    fn push(&mut self, o: Obj) -> Result<(), String> {
        let id = self.new_obj(o)?;
        self.push_id(id)
    }
    fn val(&mut self, v: PyValue) -> Result<(), String> {
        self.push(Obj::Val(v))
    }
    /// Items above the current mark are the only ones an opcode may consume (Python's metastack).
    fn base(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }
    fn pop(&mut self) -> Result<Id, String> {
        if self.stack.len() <= self.base() {
            return e("stack underflow");
        }
        Ok(self.stack.pop().unwrap_or_default())
    }
    fn top(&self) -> Result<Id, String> {
        if self.stack.len() <= self.base() {
            return e("stack underflow");
        }
        Ok(self.stack[self.stack.len() - 1])
    }
    fn pop_mark(&mut self) -> Result<Vec<Id>, String> {
        let Some(m) = self.marks.pop() else {
            return e("MARK not found");
        };
        Ok(self.stack.split_off(m))
    }
    fn memo_put(&mut self, idx: u32) -> Result<(), String> {
        let top = self.top()?;
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&idx) {
            return e("memo too large");
        }
        self.memo.insert(idx, top);
        Ok(())
    }
    fn memo_get(&mut self, idx: u32) -> Result<(), String> {
        let Some(&id) = self.memo.get(&idx) else {
            return e(format!("memo key {idx} not found"));
        };
        self.push_id(id)
    }
    /// Follows BUILD wrappers to the object that APPEND/SETITEM mutate.
    fn target(&self, id: Id) -> Id {
        match self.arena[id] {
            Obj::Build { base, .. } => base,
            _ => id,
        }
    }
    fn extend(&mut self, on: Id, new: Vec<Id>) {
        let on = self.target(on);
        match &mut self.arena[on] {
            Obj::List(v) | Obj::Set(v) | Obj::Call { items: v, .. } => v.extend(new),
            _ => self.lossy = true,
        }
    }
    fn set_items(&mut self, on: Id, flat: Vec<Id>) -> Result<(), String> {
        if !flat.len().is_multiple_of(2) {
            return e("odd number of items for SETITEMS");
        }
        let pairs = flat.chunks_exact(2).map(|c| (c[0], c[1]));
        let on = self.target(on);
        match &mut self.arena[on] {
            Obj::Dict(v) | Obj::Call { pairs: v, .. } => v.extend(pairs),
            _ => self.lossy = true,
        }
        Ok(())
    }
    fn call(&mut self, func: Id, args: Vec<Id>) -> Result<(), String> {
        self.push(Obj::Call {
            func,
            args,
            items: Vec::new(),
            pairs: Vec::new(),
        })
    }
    fn tuple_items(&self, id: Id) -> Option<Vec<Id>> {
        match &self.arena[id] {
            Obj::Tuple(v) => Some(v.clone()),
            _ => None,
        }
    }
    fn global(&mut self, module: &str, name: &str) -> Result<(), String> {
        // Python 3 maps Python 2 module names the same way when loading (fix_imports).
        let module = match module {
            "__builtin__" => "builtins",
            "copy_reg" => "copyreg",
            m => m,
        };
        self.val(PyValue::Global(format!("{module}.{name}")))
    }

    fn run(&mut self) -> Result<Id, String> {
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    let p = self.u8()?;
                    if p > 5 {
                        return e(format!("unsupported pickle protocol {p}"));
                    }
                }
                0x95 => {
                    self.len8()?; // FRAME: a length hint only
                }
                b'.' => return self.pop(),
                // integers
                b'I' => {
                    let l = self.line()?.trim().to_string();
                    match l.as_str() {
                        "00" => self.val(PyValue::Bool(false))?,
                        "01" => self.val(PyValue::Bool(true))?,
                        _ => self.val(parse_decimal(&l)?)?,
                    }
                }
                b'L' => {
                    let l = self.line()?.trim();
                    let l = l.strip_suffix('L').unwrap_or(l).to_string();
                    self.val(parse_decimal(&l)?)?
                }
                b'J' => {
                    let v = i32::from_le_bytes(self.le()?);
                    self.val(PyValue::Int(v.into()))?
                }
                b'K' => {
                    let v = self.u8()?;
                    self.val(PyValue::Int(v.into()))?
                }
                b'M' => {
                    let v = u16::from_le_bytes(self.le()?);
                    self.val(PyValue::Int(v.into()))?
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        self.u8()? as usize
                    } else {
                        self.len4()?
                    };
                    let b = self.read(n)?.to_vec();
                    if n > MAX_LONG_BYTES {
                        self.lossy = true;
                        self.val(PyValue::Opaque(format!("int of {n} bytes")))?
                    } else {
                        self.val(decode_long(&b))?
                    }
                }
                b'F' => {
                    let l = self.line()?.trim();
                    let f = l.parse::<f64>().map_err(|_| format!("bad FLOAT {l:?}"))?;
                    self.val(PyValue::Float(f))?
                }
                b'G' => {
                    let v = f64::from_be_bytes(self.le()?);
                    self.val(PyValue::Float(v))?
                }
                b'N' => self.val(PyValue::None)?,
                0x88 => self.val(PyValue::Bool(true))?,
                0x89 => self.val(PyValue::Bool(false))?,
                // text and bytes
                b'S' => {
                    let l = self.line_bytes()?.to_vec();
                    let b = unquote_py2(&l)?;
                    self.val(PyValue::Str(b.iter().map(|&c| c as char).collect()))?
                }
                b'T' | b'U' => {
                    let n = if op == b'T' {
                        self.len4()?
                    } else {
                        self.u8()? as usize
                    };
                    let s: String = self.read(n)?.iter().map(|&c| c as char).collect();
                    self.val(PyValue::Str(s))?
                }
                b'V' => {
                    let l = self.line_bytes()?.to_vec();
                    let (s, lossy) = raw_unicode_escape(&l);
                    self.lossy |= lossy;
                    self.val(PyValue::Str(s))?
                }
                b'X' | 0x8c | 0x8d => {
                    let n = match op {
                        b'X' => u32::from_le_bytes(self.le()?) as usize,
                        0x8c => self.u8()? as usize,
                        _ => self.len8()?,
                    };
                    let b = self.read(n)?;
                    let s = match std::str::from_utf8(b) {
                        Ok(s) => s.to_string(),
                        Err(_) => {
                            self.lossy = true;
                            String::from_utf8_lossy(b).into_owned()
                        }
                    };
                    self.val(PyValue::Str(s))?
                }
                b'B' | b'C' | 0x8e | 0x96 => {
                    let n = match op {
                        b'B' => u32::from_le_bytes(self.le()?) as usize,
                        b'C' => self.u8()? as usize,
                        _ => self.len8()?,
                    };
                    let b = PyValue::Bytes(self.read(n)?.to_vec());
                    if op == 0x96 {
                        let f =
                            self.new_obj(Obj::Val(PyValue::Global("builtins.bytearray".into())))?;
                        let a = self.new_obj(Obj::Val(b))?;
                        self.call(f, vec![a])?
                    } else {
                        self.val(b)?
                    }
                }
                0x97 => {
                    self.lossy = true;
                    self.val(PyValue::Opaque("out-of-band buffer".into()))?
                }
                0x98 => {
                    self.top()?;
                }
                // containers
                b']' => self.push(Obj::List(Vec::new()))?,
                b')' => self.push(Obj::Tuple(Vec::new()))?,
                b'}' => self.push(Obj::Dict(Vec::new()))?,
                0x8f => self.push(Obj::Set(Vec::new()))?,
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Obj::List(items))?
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Obj::Tuple(items))?
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    self.push(Obj::Tuple(items))?
                }
                0x91 => {
                    let items = self.pop_mark()?;
                    self.push(Obj::FrozenSet(items))?
                }
                b'd' => {
                    let flat = self.pop_mark()?;
                    let d = self.new_obj(Obj::Dict(Vec::new()))?;
                    self.set_items(d, flat)?;
                    self.push_id(d)?
                }
                b'a' => {
                    let v = self.pop()?;
                    let on = self.top()?;
                    self.extend(on, vec![v])
                }
                b'e' | 0x90 => {
                    let items = self.pop_mark()?;
                    let on = self.top()?;
                    self.extend(on, items)
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    let on = self.top()?;
                    self.set_items(on, vec![k, v])?
                }
                b'u' => {
                    let flat = self.pop_mark()?;
                    let on = self.top()?;
                    self.set_items(on, flat)?
                }
                // stack manipulation
                b'(' => {
                    if self.marks.len() >= MAX_STACK {
                        return e("too many marks");
                    }
                    self.marks.push(self.stack.len())
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'0' => {
                    if self.stack.len() > self.base() {
                        self.stack.pop();
                    } else {
                        self.pop_mark()?;
                    }
                }
                b'2' => {
                    let t = self.top()?;
                    self.push_id(t)?
                }
                // memo
                b'p' => {
                    let l = self.line()?.trim();
                    let i: u32 = l.parse().map_err(|_| format!("bad PUT index {l:?}"))?;
                    self.memo_put(i)?
                }
                b'q' => {
                    let i = self.u8()?.into();
                    self.memo_put(i)?
                }
                b'r' => {
                    let i = u32::from_le_bytes(self.le()?);
                    self.memo_put(i)?
                }
                0x94 => {
                    let i = u32::try_from(self.memo.len()).map_err(|_| "memo overflow")?;
                    self.memo_put(i)?
                }
                b'g' => {
                    let l = self.line()?.trim();
                    let i: u32 = l.parse().map_err(|_| format!("bad GET index {l:?}"))?;
                    self.memo_get(i)?
                }
                b'h' => {
                    let i = self.u8()?.into();
                    self.memo_get(i)?
                }
                b'j' => {
                    let i = u32::from_le_bytes(self.le()?);
                    self.memo_get(i)?
                }
                // objects: all symbolic
                b'c' => {
                    let module = self.line()?.to_string();
                    let name = self.line()?.to_string();
                    self.global(&module, &name)?
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (&self.arena[module], &self.arena[name]) {
                        (Obj::Val(PyValue::Str(m)), Obj::Val(PyValue::Str(n))) => {
                            let (m, n) = (m.clone(), n.clone());
                            self.global(&m, &n)?
                        }
                        _ => return e("STACK_GLOBAL requires str"),
                    }
                }
                0x82..=0x84 => {
                    let code = match op {
                        0x82 => u32::from(self.u8()?),
                        0x83 => u32::from(u16::from_le_bytes(self.le()?)),
                        _ => u32::from_le_bytes(self.le()?),
                    };
                    self.lossy = true;
                    self.val(PyValue::Opaque(format!("copyreg extension {code}")))?
                }
                b'R' | 0x81 => {
                    let args = self.pop()?;
                    let func = self.pop()?;
                    let args = self.tuple_items(args).unwrap_or_else(|| vec![args]);
                    self.call(func, args)?
                }
                0x92 => {
                    let kwargs = self.pop()?;
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let mut args = self.tuple_items(args).unwrap_or_else(|| vec![args]);
                    if !matches!(&self.arena[kwargs], Obj::Dict(d) if d.is_empty()) {
                        args.push(kwargs);
                    }
                    self.call(cls, args)?
                }
                b'i' => {
                    let module = self.line()?.to_string();
                    let name = self.line()?.to_string();
                    let args = self.pop_mark()?;
                    self.global(&module, &name)?;
                    let f = self.pop()?;
                    self.call(f, args)?
                }
                b'o' => {
                    let mut items = self.pop_mark()?;
                    if items.is_empty() {
                        return e("OBJ without class");
                    }
                    let cls = items.remove(0);
                    self.call(cls, items)?
                }
                b'b' => {
                    let state = self.pop()?;
                    let obj = self.top()?;
                    let moved = std::mem::replace(&mut self.arena[obj], Obj::Val(PyValue::None));
                    let base = match moved {
                        Obj::Build { base, .. } => base,
                        _ => self.arena.len(),
                    };
                    let inner = self.new_obj(moved)?;
                    self.arena[obj] = Obj::Build {
                        obj: inner,
                        state,
                        base,
                    };
                }
                b'P' => {
                    let l = String::from_utf8_lossy(self.line_bytes()?).into_owned();
                    self.lossy = true;
                    self.val(PyValue::Opaque(format!("persistent id {l:?}")))?
                }
                b'Q' => {
                    self.pop()?;
                    self.lossy = true;
                    self.val(PyValue::Opaque("persistent id".into()))?
                }
                other => {
                    return e(format!(
                        "unknown opcode 0x{other:02x} at offset {}",
                        self.pos - 1
                    ))
                }
            }
        }
    }
}
