//! Every operation round-trips through its text; bad lines are errors, not panics.

use super::*;

#[test]
fn every_op_round_trips_through_text() {
    let ops = [
        Op::AllocNode { payload: 7 },
        Op::AllocDrop { payload: 1 },
        Op::AllocBig { payload: u64::MAX },
        Op::AllocBytes { len: 3, seed: 9 },
        Op::AllocArray { len: 0 },
        Op::AllocInit {
            payload: 3,
            left: Some(1),
            right: None,
            old: false,
        },
        Op::AllocInit {
            payload: 4,
            left: None,
            right: Some(0),
            old: true,
        },
        Op::Write {
            src: 1,
            slot: 2,
            dst: Some(3),
        },
        Op::Write {
            src: 1,
            slot: 2,
            dst: None,
        },
        Op::AllocVec { capacity: 3 },
        Op::AllocTuple {
            len: 2,
            elem: ElemSpec::Num(9),
        },
        Op::VecPush {
            vec: 0,
            elem: ElemSpec::Node(4),
        },
        Op::VecInsert {
            vec: 1,
            index: 2,
            elem: ElemSpec::Nil,
        },
        Op::VecSet {
            vec: 1,
            index: 2,
            elem: ElemSpec::Num(u64::MAX),
        },
        Op::VecPop { vec: 3 },
        Op::VecRemove { vec: 3, index: 1 },
        Op::VecTruncate { vec: 0, len: 5 },
        Op::VecCopy {
            vec: 0,
            src: 1,
            dst: 2,
            count: 3,
        },
        Op::ViewPushCopy { vec: 2, src: 7 },
        Op::ViewCopy {
            vec: 1,
            src: 0,
            dst: 3,
        },
        Op::ViewSet {
            vec: 0,
            index: 4,
            value: u64::MAX,
        },
        Op::ViewLentPush {
            vec: 1,
            elem: ElemSpec::Node(2),
            dst: 3,
        },
        Op::TupleSet {
            tuple: 0,
            index: 1,
            elem: ElemSpec::Node(0),
        },
        Op::WriteBytes {
            root: 0,
            offset: 5,
            value: 255,
        },
        Op::DropRoot { root: 4 },
        Op::PushScope,
        Op::PopScope,
        Op::Minor,
        Op::Major,
        Op::Pin { root: 3 },
        Op::Unpin { pin: 1 },
        Op::DropPin { pin: 0 },
        Op::ForeignUnpin { pin: 7 },
        Op::PinnedWrite {
            pin: 2,
            offset: 9,
            value: 4,
        },
        Op::Ffi {
            root: 1,
            offset: 3,
            value: 200,
        },
        Op::CFill { pin: 5, value: 17 },
        Op::Hooks { kind: 3 },
        Op::Freeze,
        Op::Unfreeze,
        Op::Weak { root: 4 },
        Op::Persist { root: 2 },
        Op::Unpersist { persistent: 1 },
        Op::PersistRead { persistent: 0 },
        Op::WeakRead { weak: 1 },
        Op::Hash { root: 0 },
        Op::CopyRange {
            src: 1,
            dst: 2,
            from: 3,
            to: 4,
            len: 5,
        },
        Op::Corrupt { root: 2 },
    ];
    for op in ops {
        assert_eq!(op.to_string().parse::<Op>(), Ok(op));
    }
}

#[test]
fn bad_lines_are_errors_not_panics() {
    for line in [
        "",
        "alloc-node",
        "alloc-node x",
        "write 1 2",
        "write-bytes 0 0 256",
        "alloc-bytes 4294967295 1",
        "alloc-array 4294967295",
        "alloc-vec 99999999",
        "vec-push 0 x",
        "vec-push 0 #",
        "fly 1",
    ] {
        assert!(line.parse::<Op>().is_err(), "{line}");
    }
}
