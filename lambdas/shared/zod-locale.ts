import { en } from 'zod/locales';
import { config } from 'zod/mini';

// zod/mini (the tree-shakable zod the Lambda bundles use) loads no locale: without this every issue would read
// "Invalid input". Imported by each module that builds or parses schemas, so that no path can miss it.
config(en());
