/**
 * The JSON error shape of every API endpoint: a stable machine-readable `error` code, a
 * sentence for people, and for validation failures the offending fields.
 */
export type Problem = {
	status: number;
	error: string;
	message: string;
	issues?: { path: string; message: string }[];
};

export function problemResponse(problem: Problem, headers?: HeadersInit): Response {
	const { status, ...body } = problem;
	return Response.json(body, { status, headers });
}

export function problem(status: number, error: string, message: string): Problem {
	return { status, error, message };
}
