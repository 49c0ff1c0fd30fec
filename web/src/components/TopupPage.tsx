import { useEffect, useState } from 'react';
import { describeError, newIdempotencyKey } from '../../../ui/api';
import { ErrorMessage, Loading, StatusBadge, TextField, CopyButton } from '../../../ui/components';
import { hashQuery, useLoad } from '../../../ui/hooks';
import { formatUsd, parseDollars } from '../../../ui/money';
import { api, balance } from '../client';

interface ProcessorOption {
  id: 'stripe' | 'nowpayments' | 'sandbox';
  kind: 'card' | 'crypto' | 'sandbox';
  name: string;
  payCurrencies: string[];
}

interface Options {
  processors: ProcessorOption[];
  limits: { minMicros: string; maxMicros: string; dailyMaxMicros: string };
  presetsMicros: string[];
}

interface Topup {
  id: string;
  processor: string;
  status: 'CREATED' | 'AWAITING_PAYMENT' | 'CONFIRMED' | 'CREDITED' | 'EXPIRED' | 'FAILED';
  amountMicros: string;
  currency: string;
  processorAmount: string | null;
  checkoutUrl: string | null;
  payAddress: string | null;
  paidAmount: string | null;
  creditedMicros: string | null;
  bonusMicros: string;
  failureReason: string | null;
  expiresAt: string;
  qrSvg: string | null;
}

const STATUS_LABELS: Record<Topup['status'], string> = {
  CREATED: 'Preparing the payment…',
  AWAITING_PAYMENT: 'Waiting for your payment',
  CONFIRMED: 'Payment received, crediting…',
  CREDITED: 'Added to your balance',
  EXPIRED: 'Expired unpaid',
  FAILED: 'Failed',
};

/** `#/wallet/topup?missing=<micros>`: the amount the insufficient-funds error says is missing. */
function missingFromHash(): bigint | null {
  const value = hashQuery().get('missing');
  return value && /^\d{1,15}$/.test(value) && BigInt(value) > 0n ? BigInt(value) : null;
}

/** Top up: amount presets, processor choice, then the payment (checkout link, or address + QR for crypto) live until credited. */
export function TopupPage({ topupId }: { topupId?: string }) {
  return topupId ? <TopupStatus id={topupId} /> : <TopupForm />;
}

function TopupForm() {
  const options = useLoad((signal) => api.get<Options>('/payments/options', { signal }), []);
  const missing = missingFromHash();
  const [amount, setAmount] = useState('');
  const [processor, setProcessor] = useState<string>('');
  const [payCurrency, setPayCurrency] = useState('');
  const [coupon, setCoupon] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const data = options.data;
    if (!data) return;
    if (!processor && data.processors[0]) setProcessor(data.processors[0].id);
    if (!amount) {
      // At least what is missing, rounded up to a whole dollar, never below the minimum.
      const min = BigInt(data.limits.minMicros);
      const wanted = missing ? ((missing + 999_999n) / 1_000_000n) * 1_000_000n : BigInt(data.presetsMicros[1] ?? data.limits.minMicros);
      setAmount((Number(wanted > min ? wanted : min) / 1_000_000).toString());
    }
  }, [options.data]);

  if (!options.data) return options.error ? <ErrorMessage message={describeError(options.error)} onRetry={options.reload} /> : <Loading />;
  const { processors, presetsMicros, limits } = options.data;
  const chosen = processors.find((p) => p.id === processor);

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    setError(null);
    let micros: bigint;
    try {
      micros = parseDollars(amount);
    } catch (e) {
      setError((e as Error).message);
      return;
    }
    setBusy(true);
    try {
      const body = { amountMicros: micros.toString(), processor, ...(chosen?.kind === 'crypto' ? { payCurrency: payCurrency || chosen.payCurrencies[0] } : {}), ...(coupon.trim() ? { couponCode: coupon.trim() } : {}) };
      const { topup } = await api.post<{ topup: Topup }>('/payments/topups', body, { idempotencyKey: newIdempotencyKey() });
      window.location.hash = `#/wallet/topup/${topup.id}`;
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="topup-title" data-testid="topup-form">
      <h1 id="topup-title">Top up</h1>
      {missing ? <p data-testid="topup-missing">You need {formatUsd(missing)} more for that number.</p> : null}
      <div className="row" role="group" aria-label="Amount presets">
        {presetsMicros.map((preset) => (
          <button type="button" key={preset} className="small" onClick={() => setAmount((Number(preset) / 1_000_000).toString())}>
            {formatUsd(preset)}
          </button>
        ))}
      </div>
      <TextField id="topup-amount" label={`Amount in USD (${formatUsd(limits.minMicros)} to ${formatUsd(limits.maxMicros)})`} value={amount} onChange={setAmount} inputMode="decimal" data-testid="topup-amount" />
      <fieldset className="scopes">
        <legend>Pay with</legend>
        {processors.map((p) => (
          <label key={p.id} className="check">
            <input type="radio" name="processor" value={p.id} checked={processor === p.id} onChange={() => setProcessor(p.id)} data-testid={`processor-${p.id}`} />
            <span>{p.name}</span>
          </label>
        ))}
      </fieldset>
      {chosen?.kind === 'crypto' ? (
        <>
          <label htmlFor="topup-currency">Currency</label>
          <select id="topup-currency" value={payCurrency || chosen.payCurrencies[0]} onChange={(e) => setPayCurrency(e.target.value)}>
            {chosen.payCurrencies.map((c) => (
              <option key={c} value={c}>
                {c.toUpperCase()}
              </option>
            ))}
          </select>
        </>
      ) : null}
      <TextField id="topup-coupon" label="Coupon (optional)" value={coupon} onChange={setCoupon} autoComplete="off" />
      {error ? <ErrorMessage message={error} /> : null}
      <button type="submit" className="primary" disabled={busy || !processor} data-testid="topup-submit">
        {busy ? 'Starting…' : 'Continue to payment'}
      </button>
    </form>
  );
}

function TopupStatus({ id }: { id: string }) {
  const [topup, setTopup] = useState<Topup | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [paying, setPaying] = useState(false);
  const done = topup !== null && ['CREDITED', 'EXPIRED', 'FAILED'].includes(topup.status);

  // Live until it ends: the workflow credits on the processor's word, the page only shows it.
  useEffect(() => {
    if (done) return;
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const { topup: next } = await api.get<{ topup: Topup }>(`/payments/topups/${encodeURIComponent(id)}`, { signal: controller.signal });
        setTopup(next);
        setError(null);
        if (next.status === 'CREDITED') balance.refreshSoon();
      } catch (e) {
        if (!controller.signal.aborted) setError(e);
      }
      if (!controller.signal.aborted) timer = setTimeout(poll, 1500);
    };
    void poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
    };
  }, [id, done]);

  if (!topup) return error ? <ErrorMessage message={describeError(error)} /> : <Loading />;

  const paySandbox = async () => {
    setPaying(true);
    try {
      await api.post(`/payments/topups/${encodeURIComponent(id)}/sandbox-pay`);
    } catch (e) {
      setError(e);
    } finally {
      setPaying(false);
    }
  };

  return (
    <section className="card stack" aria-labelledby="topup-status-title" aria-live="polite">
      <h1 id="topup-status-title">Top up {formatUsd(topup.amountMicros)}</h1>
      <p data-testid="topup-status" data-status={topup.status}>
        <StatusBadge status={topup.status} label={STATUS_LABELS[topup.status]} />
      </p>
      {topup.status === 'CREDITED' ? <p>{formatUsd(BigInt(topup.creditedMicros ?? '0') + BigInt(topup.bonusMicros))} added to your balance.</p> : null}
      {topup.failureReason ? <p className="muted">{topup.failureReason}</p> : null}
      {topup.status === 'AWAITING_PAYMENT' && topup.processor === 'sandbox' ? (
        <button type="button" className="primary" onClick={paySandbox} disabled={paying} data-testid="sandbox-pay">
          {paying ? 'Paying…' : `Pay ${formatUsd(topup.amountMicros)} (sandbox)`}
        </button>
      ) : null}
      {topup.status === 'AWAITING_PAYMENT' && topup.processor !== 'sandbox' && topup.checkoutUrl ? (
        <a className="button primary" href={topup.checkoutUrl} data-testid="checkout-link">
          Pay {topup.processorAmount} {topup.currency.toUpperCase()} by card
        </a>
      ) : null}
      {topup.status === 'AWAITING_PAYMENT' && topup.payAddress ? (
        <div className="stack">
          <p>
            Send exactly <strong data-testid="pay-amount">{topup.processorAmount} {topup.currency.toUpperCase()}</strong> to:
          </p>
          <code data-testid="pay-address">{topup.payAddress}</code>
          <div>
            <CopyButton text={topup.payAddress} label="Copy address" />
          </div>
          {topup.qrSvg ? <div className="qr" data-testid="pay-qr" aria-label="QR code of the address and amount" role="img" style={{ width: 200 }} dangerouslySetInnerHTML={{ __html: topup.qrSvg }} /> : null}
          {topup.paidAmount ? <p>Received so far: {topup.paidAmount} {topup.currency.toUpperCase()}</p> : null}
          <p className="muted small-text">Pay before {new Date(topup.expiresAt).toLocaleString()}; the balance is credited once the network confirms.</p>
        </div>
      ) : null}
      {done ? (
        <p>
          <a href="#/wallet">Back to the wallet</a> · <a href="#/buy">Buy a number</a>
        </p>
      ) : null}
    </section>
  );
}
