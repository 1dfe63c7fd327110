//! The instruction set (clox's `OpCode`).

/// One instruction; operands follow in the code as bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Op {
    Constant,
    Nil,
    True,
    False,
    Pop,
    /// Slot 0 (the callee, or `this`) or a parameter: operand = its index from the frame's base.
    GetParam,
    SetParam,
    /// A local declared in the body: operand = its index in the compiler's locals (which
    /// counts slot 0 and the parameters), the frame's closure lying between the parameters and
    /// it (`calls.rs`).
    GetLocal,
    SetLocal,
    /// `SetParam`, then `Pop`: an assignment statement to a parameter (the compiler fuses the
    /// two when nothing jumps between them).
    SetParamPop,
    /// `SetLocal`, then `Pop`.
    SetLocalPop,
    /// `SetGlobal`, then `Pop`.
    SetGlobalPop,
    /// `SetUpvalue`, then `Pop`.
    SetUpvaluePop,
    /// `SetProperty`, then `Pop`.
    SetPropertyPop,
    GetGlobal,
    DefineGlobal,
    SetGlobal,
    GetUpvalue,
    SetUpvalue,
    GetProperty,
    SetProperty,
    GetSuper,
    Equal,
    Greater,
    Less,
    Add,
    Subtract,
    Multiply,
    Divide,
    Not,
    Negate,
    Print,
    Jump,
    /// Jumps if the top of the stack is falsey, leaving it (`and`, `or`).
    JumpIfFalse,
    /// Pops the top of the stack and jumps if it was falsey: the condition of an `if`, a
    /// `while` or a `for` (clox's `JumpIfFalse` with a `Pop` on each path).
    PopJumpIfFalse,
    Loop,
    Call,
    Invoke,
    SuperInvoke,
    Closure,
    CloseUpvalue,
    Return,
    Class,
    Inherit,
    Method,
}

impl Op {
    /// Every instruction, by its byte.
    const ALL: [Op; 45] = [
        Op::Constant,
        Op::Nil,
        Op::True,
        Op::False,
        Op::Pop,
        Op::GetParam,
        Op::SetParam,
        Op::GetLocal,
        Op::SetLocal,
        Op::SetParamPop,
        Op::SetLocalPop,
        Op::SetGlobalPop,
        Op::SetUpvaluePop,
        Op::SetPropertyPop,
        Op::GetGlobal,
        Op::DefineGlobal,
        Op::SetGlobal,
        Op::GetUpvalue,
        Op::SetUpvalue,
        Op::GetProperty,
        Op::SetProperty,
        Op::GetSuper,
        Op::Equal,
        Op::Greater,
        Op::Less,
        Op::Add,
        Op::Subtract,
        Op::Multiply,
        Op::Divide,
        Op::Not,
        Op::Negate,
        Op::Print,
        Op::Jump,
        Op::JumpIfFalse,
        Op::PopJumpIfFalse,
        Op::Loop,
        Op::Call,
        Op::Invoke,
        Op::SuperInvoke,
        Op::Closure,
        Op::CloseUpvalue,
        Op::Return,
        Op::Class,
        Op::Inherit,
        Op::Method,
    ];

    /// The instruction a byte encodes (the compiler writes only valid ones).
    #[inline]
    pub(crate) fn from_byte(byte: u8) -> Op {
        Op::ALL[byte as usize]
    }
}

/// The bytes of the instructions the stack loop runs, for matching on a byte directly (one
/// jump table instead of a table lookup and a jump table).
pub(crate) mod byte {
    use super::Op;

    pub(crate) const CONSTANT: u8 = Op::Constant as u8;
    pub(crate) const NIL: u8 = Op::Nil as u8;
    pub(crate) const TRUE: u8 = Op::True as u8;
    pub(crate) const FALSE: u8 = Op::False as u8;
    pub(crate) const POP: u8 = Op::Pop as u8;
    pub(crate) const GET_PARAM: u8 = Op::GetParam as u8;
    pub(crate) const SET_PARAM: u8 = Op::SetParam as u8;
    pub(crate) const GET_LOCAL: u8 = Op::GetLocal as u8;
    pub(crate) const SET_LOCAL: u8 = Op::SetLocal as u8;
    pub(crate) const SET_PARAM_POP: u8 = Op::SetParamPop as u8;
    pub(crate) const SET_LOCAL_POP: u8 = Op::SetLocalPop as u8;
    pub(crate) const SET_GLOBAL_POP: u8 = Op::SetGlobalPop as u8;
    pub(crate) const SET_UPVALUE_POP: u8 = Op::SetUpvaluePop as u8;
    pub(crate) const SET_PROPERTY_POP: u8 = Op::SetPropertyPop as u8;
    pub(crate) const GET_GLOBAL: u8 = Op::GetGlobal as u8;
    pub(crate) const GET_UPVALUE: u8 = Op::GetUpvalue as u8;
    pub(crate) const SET_UPVALUE: u8 = Op::SetUpvalue as u8;
    pub(crate) const SET_GLOBAL: u8 = Op::SetGlobal as u8;
    pub(crate) const SET_PROPERTY: u8 = Op::SetProperty as u8;
    pub(crate) const GET_PROPERTY: u8 = Op::GetProperty as u8;
    pub(crate) const EQUAL: u8 = Op::Equal as u8;
    pub(crate) const GREATER: u8 = Op::Greater as u8;
    pub(crate) const LESS: u8 = Op::Less as u8;
    pub(crate) const ADD: u8 = Op::Add as u8;
    pub(crate) const SUBTRACT: u8 = Op::Subtract as u8;
    pub(crate) const MULTIPLY: u8 = Op::Multiply as u8;
    pub(crate) const DIVIDE: u8 = Op::Divide as u8;
    pub(crate) const NOT: u8 = Op::Not as u8;
    pub(crate) const NEGATE: u8 = Op::Negate as u8;
    pub(crate) const PRINT: u8 = Op::Print as u8;
    pub(crate) const JUMP: u8 = Op::Jump as u8;
    pub(crate) const JUMP_IF_FALSE: u8 = Op::JumpIfFalse as u8;
    pub(crate) const POP_JUMP_IF_FALSE: u8 = Op::PopJumpIfFalse as u8;
    pub(crate) const LOOP: u8 = Op::Loop as u8;
    pub(crate) const CALL: u8 = Op::Call as u8;
    pub(crate) const INVOKE: u8 = Op::Invoke as u8;
    pub(crate) const SUPER_INVOKE: u8 = Op::SuperInvoke as u8;
    pub(crate) const CLOSURE: u8 = Op::Closure as u8;
    pub(crate) const CLOSE_UPVALUE: u8 = Op::CloseUpvalue as u8;
    pub(crate) const RETURN: u8 = Op::Return as u8;
}

#[cfg(test)]
mod tests {
    use super::Op;

    #[test]
    fn bytes_round_trip() {
        for (i, op) in Op::ALL.iter().enumerate() {
            assert_eq!(*op as u8 as usize, i);
            assert_eq!(Op::from_byte(i as u8), *op);
        }
    }
}
