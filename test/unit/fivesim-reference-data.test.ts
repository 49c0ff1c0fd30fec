import { countryIsoByUpstreamId, serviceCodeByUpstreamCode } from '../../src/catalog/reference-data';
import { providerConfigSchema } from '../../src/config/providers.config';

describe('5sim slugs in the reference data', () => {
  it('maps 5sim country slugs to ISO codes, next to the numeric schemes', () => {
    const fivesim = countryIsoByUpstreamId('fivesim');
    expect(fivesim.get('england')).toBe('GB');
    expect(fivesim.get('russia')).toBe('RU');
    expect(fivesim.get('usa')).toBe('US');
    expect(countryIsoByUpstreamId('sms-activate').get('0')).toBe('RU');
    expect(countryIsoByUpstreamId('herosms').get('222')).toBe('RU');
  });

  it('maps 5sim products to catalog codes; the default stays SMS-Activate codes', () => {
    const fivesim = serviceCodeByUpstreamCode('fivesim');
    expect(fivesim.get('telegram')).toBe('tg');
    expect(fivesim.get('whatsapp')).toBe('wa');
    expect(fivesim.has('tg')).toBe(false);
    expect(serviceCodeByUpstreamCode().get('tg')).toBe('tg');
    expect(serviceCodeByUpstreamCode().has('telegram')).toBe(false);
  });

  it('accepts FIVESIM providers with the fivesim naming', () => {
    const config = providerConfigSchema.parse({ id: 'five', displayName: '5sim', protocol: 'FIVESIM', baseUrl: 'https://5sim.net/v1', apiKey: 'eyJ', countryIds: 'fivesim' });
    expect(config).toMatchObject({ protocol: 'FIVESIM', countryIds: 'fivesim' });
  });
});
