import { useEffect, useState, type DragEvent } from 'react';

/** Handlers that make an element a drop target for one file. */
export function useFileDrop(onFile: (file: File) => void) {
  const [dragging, setDragging] = useState(false);
  const handlers = {
    onDragEnter: (e: DragEvent) => {
      e.preventDefault();
      setDragging(true);
    },
    onDragOver: (e: DragEvent) => {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    },
    onDragLeave: (e: DragEvent) => {
      // Leaving for a child element is not leaving.
      if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
    },
    onDrop: (e: DragEvent) => {
      e.preventDefault();
      setDragging(false);
      const file = e.dataTransfer.files[0];
      if (file) onFile(file);
    },
  };
  return { dragging, handlers };
}

const carriesFiles = (e: globalThis.DragEvent) => !!e.dataTransfer?.types.includes('Files');

/**
 * While mounted, a file dropped anywhere but on a drop zone is ignored: the
 * browser would otherwise open it in place of the page, and what was typed
 * or chosen would be lost. Drop zones (useFileDrop) cancel the default
 * themselves first, so they are left as they are; text dragged into a field
 * is not a file and is left alone too.
 */
export function useWindowDropGuard() {
  useEffect(() => {
    const onDragOver = (e: globalThis.DragEvent) => {
      if (e.defaultPrevented || !carriesFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'none'; // the pointer says "not here"
    };
    const onDrop = (e: globalThis.DragEvent) => {
      if (carriesFiles(e)) e.preventDefault();
    };
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragover', onDragOver);
      window.removeEventListener('drop', onDrop);
    };
  }, []);
}
