//! Reads the trees of a fitted smartcore forest. Its nodes are private and serde is the only
//! way out, so a serializer walks the forest as it serializes itself and hands over each
//! tree's nodes as soon as that tree ends: nothing the size of the whole forest is built (a
//! `serde_json::Value` of it took several times the forest's own memory).

use serde::ser::{self, Serialize};

use super::FitError;

/// A node of smartcore's `BaseTree`, from the fields of its serde form that prediction needs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct SmartNode {
    pub output: Option<f64>,
    pub split_feature: Option<u64>,
    pub split_value: Option<f64>,
    pub true_child: Option<u64>,
    pub false_child: Option<u64>,
}

/// Calls `tree` with the nodes of each tree of `forest`, in order.
pub(super) fn for_each_tree(
    forest: &impl Serialize,
    tree: &mut dyn FnMut(&[SmartNode]) -> Result<(), FitError>,
) -> Result<(), FitError> {
    let mut walker = Walker {
        open: Vec::new(),
        field: None,
        node: SmartNode::default(),
        nodes: Vec::new(),
        tree,
    };
    forest
        .serialize(&mut walker)
        .map_err(|WalkError(message)| FitError(message))
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct WalkError(String);

impl ser::Error for WalkError {
    fn custom<T: std::fmt::Display>(message: T) -> WalkError {
        WalkError(message.to_string())
    }
}

struct Walker<'a> {
    /// Names of the structs being serialized, innermost last.
    open: Vec<&'static str>,
    /// The field of a node whose value is being serialized.
    field: Option<&'static str>,
    node: SmartNode,
    /// The current tree's nodes so far.
    nodes: Vec<SmartNode>,
    tree: &'a mut dyn FnMut(&[SmartNode]) -> Result<(), FitError>,
}

impl Walker<'_> {
    fn open(&mut self, name: &'static str) {
        if name == "Node" {
            self.node = SmartNode::default();
        }
        self.open.push(name);
    }

    fn field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), WalkError> {
        let in_node = self.open.last() == Some(&"Node");
        if in_node {
            self.field = Some(key);
        }
        value.serialize(&mut *self)?;
        if in_node {
            self.field = None;
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), WalkError> {
        match self.open.pop() {
            Some("Node") => self.nodes.push(self.node),
            Some("BaseTree") => {
                (self.tree)(&self.nodes).map_err(|FitError(message)| WalkError(message))?;
                self.nodes.clear();
            }
            _ => {}
        }
        Ok(())
    }
}

/// Values that never hold a node's fields: skipped.
macro_rules! skip {
    ($($method:ident($type:ty)),* $(,)?) => {
        $(fn $method(self, _: $type) -> Result<(), WalkError> {
            Ok(())
        })*
    };
}

impl ser::Serializer for &mut Walker<'_> {
    type Ok = ();
    type Error = WalkError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    skip!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_f32(f32),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_u64(self, value: u64) -> Result<(), WalkError> {
        match self.field {
            Some("split_feature") => self.node.split_feature = Some(value),
            Some("true_child") => self.node.true_child = Some(value),
            Some("false_child") => self.node.false_child = Some(value),
            _ => {}
        }
        Ok(())
    }

    fn serialize_f64(self, value: f64) -> Result<(), WalkError> {
        match self.field {
            Some("output") => self.node.output = Some(value),
            Some("split_value") => self.node.split_value = Some(value),
            _ => {}
        }
        Ok(())
    }

    fn serialize_none(self) -> Result<(), WalkError> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), WalkError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), WalkError> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), WalkError> {
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), WalkError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), WalkError> {
        value.serialize(self)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self, WalkError> {
        Ok(self)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self, WalkError> {
        Ok(self)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, WalkError> {
        Ok(self)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, WalkError> {
        Ok(self)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self, WalkError> {
        Ok(self)
    }

    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Self, WalkError> {
        self.open(name);
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, WalkError> {
        self.open(name);
        Ok(self)
    }
}

impl ser::SerializeSeq for &mut Walker<'_> {
    type Ok = ();
    type Error = WalkError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), WalkError> {
        Ok(())
    }
}

impl ser::SerializeTuple for &mut Walker<'_> {
    type Ok = ();
    type Error = WalkError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), WalkError> {
        Ok(())
    }
}

impl ser::SerializeTupleStruct for &mut Walker<'_> {
    type Ok = ();
    type Error = WalkError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), WalkError> {
        Ok(())
    }
}

impl ser::SerializeTupleVariant for &mut Walker<'_> {
    type Ok = ();
    type Error = WalkError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), WalkError> {
        Ok(())
    }
}

impl ser::SerializeMap for &mut Walker<'_> {
    type Ok = ();
    type Error = WalkError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), WalkError> {
        key.serialize(&mut **self)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), WalkError> {
        value.serialize(&mut **self)
    }

    fn end(self) -> Result<(), WalkError> {
        Ok(())
    }
}

impl ser::SerializeStruct for &mut Walker<'_> {
    type Ok = ();
    type Error = WalkError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), WalkError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), WalkError> {
        self.close()
    }
}

impl ser::SerializeStructVariant for &mut Walker<'_> {
    type Ok = ();
    type Error = WalkError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), WalkError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), WalkError> {
        self.close()
    }
}
