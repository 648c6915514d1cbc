package plugin

import "github.com/spf13/cobra"

func newResumeCommand(common *Common) *cobra.Command {
	o := &SuspendOptions{Common: common, Suspend: false}
	cmd := &cobra.Command{
		Use:   "resume NAME...",
		Short: "Let the controller check and start runs for suspended ModelSyncs again",
		Long: `resume clears spec.suspend on each named ModelSync: the controller asks the lambda again
at the next interval (use trigger to ask now).`,
		Example: `  kubectl modelsync resume deployer -n label-bot`,
		Args:    cobra.MinimumNArgs(1),
		RunE:    runE(o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "Output format: name (prints only the resource name).")
	return cmd
}
