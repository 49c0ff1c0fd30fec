import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describeHistory, timestampToIso } from '../../src/activations/workflow-views';
import { HISTORIES_DIR, historyFromJson } from '../workflows/history-json';

/** The admin timeline from recorded activation histories (test/fixtures/histories): what an admin reads, in order. */

const history = (name: string) => historyFromJson(JSON.parse(readFileSync(path.join(HISTORIES_DIR, `${name}.json`), 'utf8')));

describe('admin timeline', () => {
  it('a completed purchase: started, its steps (the SMS found by polling), the end', () => {
    const timeline = describeHistory(history('completed'));
    expect(timeline[0]).toMatchObject({ kind: 'workflow', title: 'Purchase started' });
    const titles = timeline.map((e) => e.title);
    expect(titles).toEqual(expect.arrayContaining(['reserveFunds done', 'recordSms done']));
    expect(titles.findIndex((t) => t.startsWith('buyNumber'))).toBeLessThan(titles.indexOf('recordSms done'));
    expect(timeline.at(-1)).toMatchObject({ kind: 'workflow', title: expect.stringMatching(/^Workflow completed/) });
    // Ordered by event id, each with a time; workflow-task bookkeeping left out.
    expect(timeline.map((e) => e.id)).toEqual([...timeline.map((e) => e.id)].sort((a, b) => a - b));
    expect(timeline.every((e) => e.at !== null && !/workflow task/i.test(e.title))).toBe(true);
  });

  it('a purchase of the current workflow type: its local steps in order, from the hold to the finish', () => {
    const titles = describeHistory(history('purchase-completed')).map((e) => e.title);
    const steps = ['holdAndBuy done', 'recordSmsAndCapture done', 'finishAndClose done'].map((t) => titles.indexOf(t));
    expect(steps.every((i) => i >= 0)).toBe(true);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
  });

  it('an operator cancellation shows the request and what followed', () => {
    const titles = describeHistory(history('operator-cancelled')).map((e) => e.title);
    expect(titles).toContain('Cancellation requested');
    expect(titles.indexOf('Cancellation requested')).toBeLessThan(titles.length - 1);
  });

  it('timestamps become ISO strings, missing ones null', () => {
    expect(timestampToIso({ seconds: 1_700_000_000, nanos: 500_000_000 })).toBe('2023-11-14T22:13:20.500Z');
    expect(timestampToIso(null)).toBeNull();
  });
});
