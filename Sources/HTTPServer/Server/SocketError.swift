import Glibc

/// A failed system call, with the call's name, errno and its text.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var errorNumber: Int32
    public var context: String

    public init(call: String, errorNumber: Int32 = errno, context: String = "") {
        self.call = call
        self.errorNumber = errorNumber
        self.context = context
    }

    public var description: String {
        let reason = String(cString: strerror(errorNumber))
        return "\(call) failed: \(reason) (errno \(errorNumber))" + (context.isEmpty ? "" : " [\(context)]")
    }
}
