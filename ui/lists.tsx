import type { ReactNode } from 'react';
import { describeError } from './api';
import { Empty, ErrorMessage, Loading } from './components';
import type { Loaded } from './hooks';

interface LoadedListProps<T> {
  list: Loaded<T[]>;
  /** What an empty list says. */
  empty: ReactNode;
  /**
   * A failed reload leaves the rows already shown when they are still right (a background refresh);
   * without it the error replaces them (after a new filter they would answer another question).
   */
  keepRowsOnError?: boolean;
  children: (rows: T[]) => ReactNode;
}

/** A list from useLoad: its error (with Try again), loading or empty state, else its rows. */
export function LoadedList<T>({ list, empty, keepRowsOnError = false, children }: LoadedListProps<T>) {
  if (list.error && !(keepRowsOnError && list.data)) {
    return <ErrorMessage message={describeError(list.error)} onRetry={list.reload} />;
  }
  if (!list.data) return <Loading />;
  if (list.data.length === 0) return <Empty>{empty}</Empty>;
  return <>{children(list.data)}</>;
}

export interface Column {
  label: string;
  /** Figures: right-aligned. */
  numeric?: boolean;
  /** Named for screen readers only (a column of buttons). */
  hidden?: boolean;
}

/**
 * A table with one header row that scrolls inside its card instead of widening the page; with
 * `cards`, each row becomes a card on a phone (its cells name their column in data-label).
 */
export function Table({ testId, columns, cards = false, children }: { testId: string; columns: readonly Column[]; cards?: boolean; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table data-testid={testId} className={cards ? 'cards' : undefined}>
        <thead>
          <tr>
            {columns.map(({ label, numeric, hidden }) => (
              <th key={label} scope="col" className={numeric ? 'num' : undefined}>
                {hidden ? <span className="sr-only">{label}</span> : label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
