// Entry point of the playground bundle.
import { createRoot } from 'react-dom/client';

// GraphiQL's own styles, without its bundled web fonts (Roboto / Fira Code as
// data: URLs): the page uses system fonts, which keeps the CSS ~10x smaller
// and satisfies `font-src` falling back to `default-src 'self'`.
import '@graphiql/react/dist/style.css';
import 'graphiql/src/style.css';
import './playground.css';

import { App } from './App.jsx';

const container = document.getElementById('root');
createRoot(container).render(<App />);
