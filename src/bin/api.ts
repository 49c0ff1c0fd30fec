import { loadConfig } from '../config/app.config';
import { createContainer } from '../container';
import { startApi } from '../runtime';
import { runMain } from './main';

runMain(async () => {
  const config = loadConfig();
  const container = await createContainer(config);
  const api = await startApi(container, { port: config.env.PORT, host: config.env.HOST, serveUi: true });
  container.logger.info({ url: api.url }, 'api listening');
  return async () => {
    await api.close();
    await container.close();
  };
});
