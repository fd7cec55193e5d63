import { useEffect, useRef, type RefObject } from 'react';

type Key = string | number;

/**
 * Where focus goes once a deleted card has left the list. The dialog hands
 * it back to the card's delete button, which then goes with the card, and
 * focus would fall to the page: it goes instead to the delete button of the
 * card now in its place (or of the one before it), else to fallback.
 */
export function useDeleteFocus<T>(
  items: readonly T[] | undefined,
  keyOf: (item: T) => Key,
  dialogOpen: boolean,
  fallback: RefObject<HTMLElement | null> | undefined,
) {
  const buttons = useRef(new Map<Key, HTMLElement>());
  const pending = useRef<{ key: Key; index: number } | null>(null);
  useEffect(() => {
    const p = pending.current;
    // Once the dialog has closed (and restored focus its way) and the card is gone.
    if (!p || dialogOpen || !items || items.some((it) => keyOf(it) === p.key)) return;
    pending.current = null;
    const next = items[Math.min(p.index, items.length - 1)];
    const button = next === undefined ? undefined : buttons.current.get(keyOf(next));
    (button ?? fallback?.current)?.focus();
  }, [items, dialogOpen]); // keyOf and fallback as they are then

  return {
    /** The ref for the delete button of the item with this key. */
    button: (key: Key) => (el: HTMLElement | null) => {
      if (el) buttons.current.set(key, el);
      else buttons.current.delete(key);
    },
    /** Before the deletion is sent: its answer and the new list may come in either order. */
    deleting: (key: Key) => {
      pending.current = { key, index: Math.max(0, items?.findIndex((it) => keyOf(it) === key) ?? 0) };
    },
    /** It was refused: the card stays, and so does focus. */
    failed: () => {
      pending.current = null;
    },
  };
}
