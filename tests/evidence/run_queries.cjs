// Runs queries through Evidence's own DuckDB connector (@evidence-dev/duckdb, pinned in
// package.json), the way `npm run sources` runs the query files of a source:
//   node run_queries.cjs SOURCE_DIR OPTIONS_JSON QUERIES_JSON
// SOURCE_DIR is the source's folder (connection.yaml, initialize.sql, the linked file),
// OPTIONS_JSON the `options` of its connection.yaml, QUERIES_JSON {name: sql}. Prints one JSON
// object {name: {rows: [...]} or {error: "message"}}. Used by tests/test_bi_recipes.py.
const path = require('path');
const { getRunner } = require('@evidence-dev/duckdb');

async function main() {
	const [directory, optionsJson, queriesJson] = process.argv.slice(2);
	const runner = await getRunner(JSON.parse(optionsJson), directory);
	const outcomes = {};
	for (const [name, query] of Object.entries(JSON.parse(queriesJson))) {
		try {
			const result = await runner(query, path.join(directory, `${name}.sql`), 1000);
			const rows = [];
			for await (const batch of result.rows()) rows.push(...batch);
			outcomes[name] = { rows };
		} catch (error) {
			outcomes[name] = { error: String(error && error.message ? error.message : error) };
		}
	}
	const bigints = (_, value) => (typeof value === 'bigint' ? Number(value) : value);
	process.stdout.write(JSON.stringify(outcomes, bigints));
}

main().catch((error) => {
	process.stderr.write(String(error && error.stack ? error.stack : error));
	process.exit(1);
});
