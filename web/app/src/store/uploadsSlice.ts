import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

// Object URLs of the photos uploaded in this tab, by task id: the "before"
// half of the result page. They die with the tab; the server deletes the
// original once the result is stored, so there is nothing to fetch later.

export interface UploadsState {
  before: Record<string, string>;
  /** Task ids, oldest first, to bound how many blobs stay in memory. */
  order: string[];
}

export const MAX_KEPT = 8;

const initialState: UploadsState = { before: {}, order: [] };

const uploadsSlice = createSlice({
  name: 'uploads',
  initialState,
  reducers: {
    beforeKept(state, action: PayloadAction<{ taskId: string; url: string }>) {
      const { taskId, url } = action.payload;
      state.before[taskId] = url;
      state.order = [...state.order.filter((id) => id !== taskId), taskId];
      while (state.order.length > MAX_KEPT) {
        const old = state.order.shift();
        if (old) delete state.before[old];
      }
    },
    beforeDropped(state, action: PayloadAction<string>) {
      delete state.before[action.payload];
      state.order = state.order.filter((id) => id !== action.payload);
    },
    /** A session ends or another begins: the photos were the previous person's. */
    beforeCleared() {
      return initialState;
    },
  },
});

export const { beforeKept, beforeDropped, beforeCleared } = uploadsSlice.actions;
export default uploadsSlice.reducer;

export const selectBeforeUrl = (taskId: string) => (s: { uploads: UploadsState }) => s.uploads.before[taskId] ?? null;
