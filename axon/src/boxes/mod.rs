//! The box layer: [`Inbox`], [`Outbox`], the link graph between them,
//! [`Linkage`], and declaring a component's boxes ([`BoxSet`], the
//! [`boxes!`](crate::boxes) macro, and the default set [`Standard`]).
//!
//! This layer knows nothing of tasks or schedulers: it reaches the component
//! that owns a box only through the [`Owner`](owner::Owner) trait, which the
//! task layer implements.

pub(crate) mod collection_wake;
pub(crate) mod few;
pub(crate) mod graph;
pub(crate) mod inbox;
pub(crate) mod linkage;
pub(crate) mod outbox;
pub(crate) mod overflow;
pub(crate) mod owner;

use std::fmt;
use std::rc::{Rc, Weak};

pub use self::collection_wake::CollectionWake;
pub use self::inbox::{Drain, Inbox, Next};
pub use self::linkage::{Linkage, Passthrough};
pub use self::outbox::{Outbox, SendFuture};
pub use self::overflow::OverflowPolicy;
use crate::boxes::graph::AnyBox;
use crate::boxes::inbox::InboxNode;
use crate::boxes::outbox::OutboxNode;
use crate::boxes::owner::Owner;
use crate::id::Direction;
use crate::ipc::Ipc;

/// The static description of one declared box: what Axon keeps in a
/// component's `Inboxes` and `Outboxes` dictionaries.
#[derive(Clone, Copy)]
pub struct BoxDecl {
    /// The box's name, as used in linkages.
    pub name: &'static str,
    /// What flows through the box and what it means (from the doc comment).
    pub doc: &'static str,
    /// Inbox or outbox.
    pub direction: Direction,
    /// The name of the message type the box carries.
    pub type_name: fn() -> &'static str,
}

impl fmt::Debug for BoxDecl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoxDecl")
            .field("name", &self.name)
            .field("direction", &self.direction)
            .field("type_name", &(self.type_name)())
            .finish()
    }
}

/// A description of one of a component's boxes, declared or added at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoxInfo {
    /// The box's name.
    pub name: String,
    /// Its doc string.
    pub doc: String,
    /// Inbox or outbox.
    pub direction: Direction,
    /// The message type it carries.
    pub type_name: &'static str,
}

impl BoxInfo {
    pub(crate) fn from_decl(decl: &BoxDecl) -> Self {
        BoxInfo {
            name: decl.name.to_string(),
            doc: clean_doc(decl.doc),
            direction: decl.direction,
            type_name: (decl.type_name)(),
        }
    }
}

/// Turns the lines of a doc comment into one paragraph.
pub(crate) fn clean_doc(doc: &str) -> String {
    doc.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A component's set of declared boxes.
///
/// The set is a struct of box handles: cloning it clones the handles, which
/// still refer to the same boxes.
///
/// Implement it with the [`boxes!`](crate::boxes) macro, which declares a struct
/// whose fields are the boxes and whose doc comments are the boxes' doc strings.
/// Most components use [`Standard`] (`inbox`, `control`, `outbox`, `signal`)
/// or [`NoBoxes`].
pub trait BoxSet: Clone + 'static {
    /// The message type of the box named `inbox`, or [`Absent`] if there is
    /// none: what a chassis such as Kamaelia's Pipeline feeds the component.
    type In: 'static;

    /// The message type of the box named `outbox`, or [`Absent`] if there is
    /// none.
    type Out: 'static;

    /// The declared boxes, in declaration order.
    const BOXES: &'static [BoxDecl];

    /// Creates the boxes for a new component.
    #[doc(hidden)]
    fn create(owner: &BoxOwner) -> Self;

    /// The box at `index` in [`BOXES`](Self::BOXES), type-erased.
    #[doc(hidden)]
    fn erased(&self, index: usize) -> Option<ErasedBox>;
}

/// The message type of a box that is not there: a [`BoxSet`] without an
/// `inbox` has `In = Absent`, one without an `outbox` has `Out = Absent`.
/// No value of it exists, and a box carrying it links only to another such
/// box, so a chassis that checks types at compile time refuses to feed a
/// component that takes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absent {}

/// The component being built, as [`BoxSet::create`] sees it.
#[doc(hidden)]
pub struct BoxOwner {
    pub(crate) owner: Weak<dyn Owner>,
}

impl BoxOwner {
    /// Creates the box declared at `index`.
    pub fn make<H: MakeBox>(&self, index: usize) -> H {
        H::make(self, index as u32)
    }
}

impl fmt::Debug for BoxOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoxOwner")
    }
}

/// A box handle type that [`BoxSet::create`] can create: [`Inbox`] or [`Outbox`].
#[doc(hidden)]
pub trait MakeBox: Sized {
    #[doc(hidden)]
    fn make(owner: &BoxOwner, index: u32) -> Self;
    #[doc(hidden)]
    fn erased(&self) -> ErasedBox;
}

impl<T: 'static> MakeBox for Inbox<T> {
    fn make(owner: &BoxOwner, index: u32) -> Self {
        Inbox::from_node(InboxNode::new(owner.owner.clone(), index))
    }

    fn erased(&self) -> ErasedBox {
        ErasedBox(self.node().clone())
    }
}

impl<T: 'static> MakeBox for Outbox<T> {
    fn make(owner: &BoxOwner, index: u32) -> Self {
        Outbox::from_node(OutboxNode::new(owner.owner.clone(), index))
    }

    fn erased(&self) -> ErasedBox {
        ErasedBox(self.node().clone())
    }
}

/// A box with its message type erased, as linkages handle it.
#[doc(hidden)]
#[derive(Clone)]
pub struct ErasedBox(pub(crate) Rc<dyn AnyBox>);

impl fmt::Debug for ErasedBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ErasedBox({} of {})",
            self.0.direction(),
            self.0.type_name()
        )
    }
}

/// Declares a set of boxes: a struct with one field per box, implementing
/// [`BoxSet`].
///
/// Each field is written `inbox name: Type` or `outbox name: Type`; the field
/// name is the box's name and its doc comment is the box's doc string, as in
/// Axon's `Inboxes = {"name": "doc"}`. A box carries exactly one message type,
/// and linking boxes of different types is refused.
///
/// # Examples
///
/// ```
/// use axon::ipc::Ipc;
///
/// axon::boxes! {
///     /// The boxes of a component that counts what it receives.
///     pub struct CounterBoxes {
///         /// Anything to count.
///         inbox inbox: String,
///         /// `ProducerFinished` makes it report and end.
///         inbox control: Ipc,
///         /// The count, when it ends.
///         outbox outbox: usize,
///     }
/// }
///
/// use axon::BoxSet;
/// let names: Vec<_> = CounterBoxes::BOXES.iter().map(|b| b.name).collect();
/// assert_eq!(names, ["inbox", "control", "outbox"]);
/// assert_eq!(CounterBoxes::BOXES[1].doc.trim(), "`ProducerFinished` makes it report and end.");
/// ```
#[macro_export]
macro_rules! boxes {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident $(< $($gen:ident),+ $(,)? >)? {
            $(
                $(#[doc = $doc:literal])*
                $dir:ident $field:ident : $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name $(< $($gen),+ >)? {
            $(
                $(#[doc = $doc])*
                pub $field: $crate::boxes!(@handle $dir $ty),
            )*
        }

        impl $(< $($gen: 'static),+ >)? ::core::clone::Clone for $name $(< $($gen),+ >)? {
            fn clone(&self) -> Self {
                $name {
                    $( $field: ::core::clone::Clone::clone(&self.$field), )*
                }
            }
        }

        impl $(< $($gen: 'static),+ >)? ::core::fmt::Debug for $name $(< $($gen),+ >)? {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(::core::stringify!($name))
                    $( .field(::core::stringify!($field), &self.$field) )*
                    .finish()
            }
        }

        impl $(< $($gen: 'static),+ >)? $crate::BoxSet for $name $(< $($gen),+ >)? {
            type In = $crate::boxes!(@find inbox [$($dir $field : $ty,)*]);
            type Out = $crate::boxes!(@find outbox [$($dir $field : $ty,)*]);

            const BOXES: &'static [$crate::BoxDecl] = &[
                $(
                    $crate::BoxDecl {
                        name: ::core::stringify!($field),
                        doc: ::core::concat!($($doc, "\n",)* ""),
                        direction: $crate::boxes!(@direction $dir),
                        type_name: ::core::any::type_name::<$ty> as fn() -> &'static str,
                    },
                )*
            ];

            #[allow(unused_variables, unused_mut, clippy::redundant_field_names)]
            fn create(owner: &$crate::__private::BoxOwner) -> Self {
                let mut index = 0usize;
                let mut next = || {
                    index += 1;
                    index - 1
                };
                $name {
                    $( $field: owner.make(next()), )*
                }
            }

            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn erased(&self, index: usize) -> ::core::option::Option<$crate::__private::ErasedBox> {
                let mut i = 0usize;
                $(
                    if index == i {
                        return ::core::option::Option::Some($crate::__private::MakeBox::erased(&self.$field));
                    }
                    i += 1;
                )*
                ::core::option::Option::None
            }
        }
    };
    // The type of the box named `inbox` (or `outbox`): a walk over the
    // fields, so that a set without one gets `Absent`.
    (@find inbox [inbox inbox : $ty:ty, $($rest:tt)*]) => { $ty };
    (@find outbox [outbox outbox : $ty:ty, $($rest:tt)*]) => { $ty };
    (@find $want:ident [$dir:ident $field:ident : $ty:ty, $($rest:tt)*]) => {
        $crate::boxes!(@find $want [$($rest)*])
    };
    (@find $want:ident []) => { $crate::Absent };
    (@handle inbox $ty:ty) => { $crate::Inbox<$ty> };
    (@handle outbox $ty:ty) => { $crate::Outbox<$ty> };
    (@direction inbox) => { $crate::Direction::Inbox };
    (@direction outbox) => { $crate::Direction::Outbox };
}

boxes! {
    /// The boxes every Axon component has unless it says otherwise: data in on
    /// `inbox`, data out on `outbox`, and [`Ipc`] messages on `control` and
    /// `signal`. `I` and `O` are the data types in and out.
    pub struct Standard<I, O> {
        /// Data in: in a pipeline, much like stdin.
        inbox inbox: I,
        /// Control messages in, such as `ProducerFinished` and
        /// `ShutdownMicroprocess`: the closest analogy is unix signals.
        inbox control: Ipc,
        /// Data out: in a pipeline, much like stdout.
        outbox outbox: O,
        /// Signals out, usually to the next component's `control`: the
        /// closest analogy is stderr.
        outbox signal: Ipc,
    }
}

boxes! {
    /// No boxes at all, for a component that only computes or only yields:
    /// what Axon calls a bare microprocess.
    pub struct NoBoxes {}
}

#[cfg(test)]
mod tests {
    use std::any::TypeId;

    use super::*;

    boxes! {
        /// A set with an outbox but no inbox.
        struct SourceBoxes {
            /// Control.
            inbox control: Ipc,
            /// Out.
            outbox outbox: u8,
        }
    }

    fn type_of<T: 'static>() -> TypeId {
        TypeId::of::<T>()
    }

    #[test]
    fn in_and_out_are_the_types_of_inbox_and_outbox() {
        assert_eq!(
            type_of::<<Standard<String, u32> as BoxSet>::In>(),
            type_of::<String>()
        );
        assert_eq!(
            type_of::<<Standard<String, u32> as BoxSet>::Out>(),
            type_of::<u32>()
        );
    }

    #[test]
    fn a_missing_inbox_or_outbox_is_absent() {
        assert_eq!(
            type_of::<<SourceBoxes as BoxSet>::In>(),
            type_of::<Absent>()
        );
        assert_eq!(type_of::<<SourceBoxes as BoxSet>::Out>(), type_of::<u8>());
        assert_eq!(type_of::<<NoBoxes as BoxSet>::Out>(), type_of::<Absent>());
    }
}
