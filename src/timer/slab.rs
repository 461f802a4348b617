//! Timer entries in a slab (a `Vec` plus a free list), threaded into FIFO lists.
//!
//! tokio links its timer entries intrusively with raw pointers; we keep them in
//! a slab instead and link them by index, which gives the same O(1) unlink
//! without `unsafe`. An entry's `seq` (a wheel-wide insertion counter) doubles
//! as its generation: a [`TimerKey`](super::TimerKey) matches an entry only if
//! both the index and the `seq` agree, so a stale key never reaches an entry
//! that reused its slot.

/// Where an armed entry is linked.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Place {
    /// In slot `slot` of wheel level `level`.
    Slot { level: usize, slot: usize },
    /// In the list of expired entries waiting to be returned by `poll`.
    Expired,
}

/// One armed timer.
#[derive(Debug)]
pub(super) struct Entry<T> {
    pub(super) value: T,
    /// Deadline in whole milliseconds since the wheel's origin (rounded up).
    pub(super) tick: u64,
    /// Insertion number: orders ties and checks keys.
    pub(super) seq: u64,
    pub(super) place: Place,
    prev: Option<usize>,
    next: Option<usize>,
}

impl<T> Entry<T> {
    pub(super) fn new(value: T, tick: u64, seq: u64) -> Self {
        Self { value, tick, seq, place: Place::Expired, prev: None, next: None }
    }
}

#[derive(Debug)]
enum Cell<T> {
    Occupied(Entry<T>),
    Vacant { next_free: Option<usize> },
}

/// A slab of entries: stable indices, O(1) insert and remove, freed cells reused.
#[derive(Debug)]
pub(super) struct Slab<T> {
    cells: Vec<Cell<T>>,
    free: Option<usize>,
    len: usize,
}

impl<T> Slab<T> {
    pub(super) fn new() -> Self {
        Self { cells: Vec::new(), free: None, len: 0 }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Stores `entry` and returns its index.
    pub(super) fn insert(&mut self, entry: Entry<T>) -> usize {
        self.len += 1;
        if let Some(index) = self.free
            && let Some(cell) = self.cells.get_mut(index)
            && let Cell::Vacant { next_free } = *cell
        {
            self.free = next_free;
            *cell = Cell::Occupied(entry);
            return index;
        }
        // No free cell (or a corrupt free list, which we then abandon).
        self.free = None;
        self.cells.push(Cell::Occupied(entry));
        self.cells.len() - 1
    }

    /// Takes the entry out of `index`; the caller must have unlinked it first.
    pub(super) fn remove(&mut self, index: usize) -> Option<Entry<T>> {
        let cell = self.cells.get_mut(index)?;
        if matches!(cell, Cell::Vacant { .. }) {
            return None;
        }
        let old = std::mem::replace(cell, Cell::Vacant { next_free: self.free });
        self.free = Some(index);
        self.len -= 1;
        match old {
            Cell::Occupied(entry) => Some(entry),
            Cell::Vacant { .. } => None,
        }
    }

    pub(super) fn get(&self, index: usize) -> Option<&Entry<T>> {
        match self.cells.get(index)? {
            Cell::Occupied(entry) => Some(entry),
            Cell::Vacant { .. } => None,
        }
    }

    pub(super) fn get_mut(&mut self, index: usize) -> Option<&mut Entry<T>> {
        match self.cells.get_mut(index)? {
            Cell::Occupied(entry) => Some(entry),
            Cell::Vacant { .. } => None,
        }
    }

    fn tick(&self, index: usize) -> Option<u64> {
        self.get(index).map(|e| e.tick)
    }
}

/// A FIFO doubly linked list of slab entries (head = oldest).
#[derive(Clone, Copy, Default, Debug)]
pub(super) struct List {
    head: Option<usize>,
    tail: Option<usize>,
}

impl List {
    pub(super) const EMPTY: Self = Self { head: None, tail: None };

    pub(super) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    pub(super) fn tail(&self) -> Option<usize> {
        self.tail
    }

    /// The tick of the first entry.
    pub(super) fn head_tick<T>(&self, slab: &Slab<T>) -> Option<u64> {
        slab.tick(self.head?)
    }

    /// The tick of the last entry.
    pub(super) fn tail_tick<T>(&self, slab: &Slab<T>) -> Option<u64> {
        slab.tick(self.tail?)
    }

    /// Appends `index` (which must not be linked anywhere) at the tail.
    pub(super) fn push_back<T>(&mut self, slab: &mut Slab<T>, index: usize, place: Place) {
        let old_tail = self.tail;
        if let Some(entry) = slab.get_mut(index) {
            entry.prev = old_tail;
            entry.next = None;
            entry.place = place;
        } else {
            return;
        }
        match old_tail.and_then(|t| slab.get_mut(t)) {
            Some(tail) => tail.next = Some(index),
            None => self.head = Some(index),
        }
        self.tail = Some(index);
    }

    /// Links `index` right before `before` (which must be in this list).
    fn insert_before<T>(&mut self, slab: &mut Slab<T>, index: usize, before: usize, place: Place) {
        let prev = slab.get(before).and_then(|b| b.prev);
        if let Some(entry) = slab.get_mut(index) {
            entry.prev = prev;
            entry.next = Some(before);
            entry.place = place;
        } else {
            return;
        }
        if let Some(b) = slab.get_mut(before) {
            b.prev = Some(index);
        }
        match prev.and_then(|p| slab.get_mut(p)) {
            Some(p) => p.next = Some(index),
            None => self.head = Some(index),
        }
    }

    /// Links `index` so the list stays ordered by `(tick, seq)`, assuming it
    /// already is. Walks from the head: used only for deadlines already in the
    /// past, which sort before (nearly) everything.
    pub(super) fn insert_ordered<T>(&mut self, slab: &mut Slab<T>, index: usize, place: Place) {
        let Some(key) = slab.get(index).map(|e| (e.tick, e.seq)) else { return };
        let mut cursor = self.head;
        while let Some(at) = cursor {
            let Some(entry) = slab.get(at) else { break };
            if (entry.tick, entry.seq) > key {
                self.insert_before(slab, index, at, place);
                return;
            }
            cursor = entry.next;
        }
        self.push_back(slab, index, place);
    }

    /// Unlinks `index` (which must be in this list).
    pub(super) fn unlink<T>(&mut self, slab: &mut Slab<T>, index: usize) {
        let Some(entry) = slab.get_mut(index) else { return };
        let (prev, next) = (entry.prev.take(), entry.next.take());
        match prev.and_then(|p| slab.get_mut(p)) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match next.and_then(|n| slab.get_mut(n)) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
    }

    /// The linked entries, head first (for invariant checks in tests).
    #[cfg(test)]
    pub(super) fn iter<'a, T>(
        &self,
        slab: &'a Slab<T>,
    ) -> impl Iterator<Item = (usize, &'a Entry<T>)> {
        let mut cursor = self.head;
        std::iter::from_fn(move || {
            let index = cursor?;
            let entry = slab.get(index)?;
            cursor = entry.next;
            Some((index, entry))
        })
    }

    /// Unlinks and returns the head.
    pub(super) fn pop_front<T>(&mut self, slab: &mut Slab<T>) -> Option<usize> {
        let head = self.head?;
        self.unlink(slab, head);
        Some(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(list: &mut List, slab: &mut Slab<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        while let Some(i) = list.pop_front(slab) {
            out.push(slab.remove(i).unwrap().value);
        }
        out
    }

    #[test]
    fn list_is_fifo_and_unlinks_anywhere() {
        let mut slab = Slab::new();
        let mut list = List::default();
        let ids: Vec<usize> = (0..5).map(|v| slab.insert(Entry::new(v, 0, u64::from(v)))).collect();
        for &i in &ids {
            list.push_back(&mut slab, i, Place::Expired);
        }
        list.unlink(&mut slab, ids[0]);
        list.unlink(&mut slab, ids[2]);
        list.unlink(&mut slab, ids[4]);
        slab.remove(ids[0]);
        slab.remove(ids[2]);
        slab.remove(ids[4]);
        assert_eq!(drain(&mut list, &mut slab), vec![1, 3]);
        assert!(list.is_empty());
        assert_eq!(slab.len(), 0);
    }

    #[test]
    fn slab_reuses_freed_cells() {
        let mut slab = Slab::new();
        let a = slab.insert(Entry::new(1u32, 0, 0));
        let b = slab.insert(Entry::new(2, 0, 1));
        assert_eq!(slab.remove(a).unwrap().value, 1);
        assert!(slab.remove(a).is_none());
        let c = slab.insert(Entry::new(3, 0, 2));
        assert_eq!(c, a);
        assert_eq!(slab.get(b).unwrap().value, 2);
        assert_eq!(slab.len(), 2);
    }

    #[test]
    fn insert_ordered_sorts_by_tick_then_seq() {
        let mut slab = Slab::new();
        let mut list = List::default();
        for (v, tick) in [(0u32, 5u64), (1, 3), (2, 5), (3, 1), (4, 3)] {
            let i = slab.insert(Entry::new(v, tick, u64::from(v)));
            list.insert_ordered(&mut slab, i, Place::Expired);
        }
        assert_eq!(drain(&mut list, &mut slab), vec![3, 1, 4, 0, 2]);
    }
}
