/// StaticTokenAuthenticator knows the users of a Kubernetes token file
/// (`--token-auth-file`): one user a line, `token,user,uid,"group1,group2"`, the group column
/// optional and further columns ignored. A later line with the same token replaces the earlier
/// one, as in Kubernetes (`warnings` lists each such line).
public struct StaticTokenAuthenticator: Authenticator {
    public private(set) var users: [String: UserInfo]
    public private(set) var warnings: [String] = []

    public init(users: [String: UserInfo]) {
        self.users = users
    }

    /// Parses the contents of a token file; `file` names it in error messages.
    public init(parsing text: String, file: String) throws(TokenFileError) {
        self.users = [:]
        for record in try TokenFile.parse(text, file: file) {
            let fields = record.fields
            guard fields.count >= 3 else {
                let column = fields.last.map { $0.column + $0.value.count } ?? 1
                throw TokenFileError(
                    file: file, line: record.line, column: column,
                    message: "a token line needs at least 3 columns (token,user,uid[,\"group1,group2\"]), found \(fields.count)")
            }
            guard !fields[0].value.isEmpty else {
                throw TokenFileError(file: file, line: record.line, column: fields[0].column, message: "the token is empty; put the token in the first column")
            }
            guard !fields[1].value.isEmpty else {
                throw TokenFileError(file: file, line: record.line, column: fields[1].column, message: "the user name is empty; put the user name in the second column")
            }
            var groups: [String] = []
            if fields.count >= 4 {
                groups = fields[3].value.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
            }
            if users[fields[0].value] != nil {
                warnings.append("\(file):\(record.line): duplicate token; this line replaces the earlier one")
            }
            users[fields[0].value] = UserInfo(name: fields[1].value, uid: fields[2].value, groups: groups)
        }
    }

    public func authenticate(token: String) -> AuthenticationResult {
        guard let user = users[token] else { return .unknown }
        return .authenticated(user)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
